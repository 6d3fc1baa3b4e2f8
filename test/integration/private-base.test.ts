import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli, TINY_DOCKERFILE, tinyComponent } from '../support/project.js';
import { BUSYBOX, docker, registryDigest, removeImages, services, uniqueName } from '../support/services.js';

/**
 * A base image on the registry that requires credentials (htpasswd), the component pushed to the
 * anonymous one: BuildKit asks for the base's credentials through the build session, the classic
 * builder gets them in X-Registry-Config.
 */
describe('a private base image', () => {
  const prefix = uniqueName('itest-private');
  const base = `${services.authRegistry}/${prefix}/private/busybox:1`;
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('hello', 'hello', 'from a private base') });
  const configDir = mkdtempSync(join(tmpdir(), 'helmet-docker-config-'));
  const saved = process.env.DOCKER_CONFIG;
  const auth = { username: services.authUser, password: services.authPassword, serveraddress: services.authRegistry };

  beforeAll(async () => {
    const [repo, tag] = [base.slice(0, base.lastIndexOf(':')), '1'];
    await docker.getImage(BUSYBOX).tag({ repo, tag });
    const stream = await docker.getImage(base).push({ authconfig: auth });
    await new Promise((resolve, reject) => docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve(undefined))));
    writeFileSync(
      join(configDir, 'config.json'),
      JSON.stringify({ auths: { [services.authRegistry]: { auth: Buffer.from(`${services.authUser}:${services.authPassword}`).toString('base64') } } }),
    );
  }, 60_000);
  afterEach(async () => {
    // The engine must pull the base every time: no local copy may answer for it.
    await removeImages(`${services.authRegistry}/${prefix}`);
    if (saved === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = saved;
  });
  afterAll(async () => {
    await removeImages(`${services.registry}/${prefix}`);
    project.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  for (const builder of ['buildkit', 'classic'] as const) {
    it(`${builder}: pulled with the Docker config's credentials, pushed to the other registry, pinned to its digest`, async () => {
      await removeImages(base);
      process.env.DOCKER_CONFIG = configDir;
      const push = `${services.registry}/${prefix}-${builder}`;
      const r = await runCli(['build', 'hello', '--push', push, '--builder', builder, '--build-arg', `BASE_IMAGE=${base}`, '--json', '-v'], project.root);
      expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
      const report = readFileSync(join(project.root, 'dist/build.json'), 'utf8');
      const entry = JSON.parse(report).components.hello;
      expect(entry.digest).toBe(await registryDigest(services.registry, `${prefix}-${builder}/hello`, entry.tags[0]));
      expect(readFileSync(join(project.root, 'dist/components/hello/component.yaml'), 'utf8')).toContain(`@${entry.digest}`);
      for (const text of [r.stdout, r.stderr, report]) expect(text).not.toContain(services.authPassword);
    }, 120_000);

    it(`${builder}: without credentials for the base, the build fails (the credentials above were needed)`, async () => {
      await removeImages(base);
      const empty = mkdtempSync(join(tmpdir(), 'helmet-docker-config-'));
      process.env.DOCKER_CONFIG = empty;
      const r = await runCli(
        ['build', 'hello', '--builder', builder, '--build-arg', `BASE_IMAGE=${base}`, '--no-cache', '--out', join(empty, 'dist')],
        project.root,
      );
      rmSync(empty, { recursive: true, force: true });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/401|unauthorized|no basic auth credentials|authorization/i);
    }, 120_000);
  }
});
