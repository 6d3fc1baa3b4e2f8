/**
 * The registry layer cache on a registry that requires login: BuildKit fetches `<repo>:buildcache`
 * with the credentials the build session gives it, so a fresh engine (no images, no build cache)
 * reuses the slow step after a one-line change — as it does on an anonymous registry.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, ndjson, runCli, withEnv } from '../support/project.js';
import { docker, removeImages, services, uniqueName } from '../support/services.js';

describe('the registry layer cache behind a login (BuildKit)', () => {
  const prefix = uniqueName('itest-authcache');
  const push = `${services.authRegistry}/${prefix}`;
  const env = { HELMET_REGISTRY_USER: services.authUser, HELMET_REGISTRY_PASSWORD: services.authPassword };
  afterAll(() => removeImages(push));

  it('a fresh engine after a one-line change reuses the slow step from the registry', () =>
    withEnv(env, async () => {
      const project = makeProject({
        'dockerfiles/app.Dockerfile': `FROM helmet/busybox:latest\nRUN sleep 6 && echo ${prefix} > /slow\nCOPY . /app\n`,
        'components/app/component.yaml': `name: app\nimplementation:\n  container:\n    command: [sh, /app/main.sh]\nbuild:\n  image: app\n  dockerfile: dockerfiles/app.Dockerfile\n`,
        'components/app/main.sh': 'echo "app says hi"\n',
      });
      try {
        const first = await runCli(['all', '--push', push, '--json'], project.root);
        expect(first.code, first.stderr).toBe(0);
        // A new CI runner: none of the images, none of the build cache.
        await removeImages(push);
        await docker.pruneBuilder({ all: true } as never);
        writeFileSync(join(project.root, 'components/app/main.sh'), `echo "changed ${prefix}"\n`);
        const second = await runCli(['all', '--push', push, '--json'], project.root);
        expect(second.code, second.stderr).toBe(0);
        const slow = ndjson(second.stdout).filter((e) => e.type === 'build-step' && e.step.includes('RUN sleep 6'));
        expect(slow.map((e) => e.state)).toEqual(['cached']);
        expect(second.stdout + second.stderr).not.toContain(services.authPassword);
      } finally {
        project.cleanup();
      }
    }));
});
