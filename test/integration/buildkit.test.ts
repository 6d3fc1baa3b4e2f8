import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/project.js';
import { docker, registryDigest, removeImages, runImage, services, uniqueName } from '../support/services.js';

const ndjson = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** One component `app` built from `dockerfile`, whose context holds main.sh. */
function appProject(image: string, dockerfile: string) {
  return makeProject({
    'dockerfiles/app.Dockerfile': dockerfile,
    'components/app/component.yaml': `name: app\nimplementation:\n  container:\n    command: [sh, /app/main.sh]\nbuild:\n  image: ${image}\n  dockerfile: dockerfiles/app.Dockerfile\n`,
    'components/app/main.sh': 'echo "app says hi"\n',
  });
}

describe('BuildKit builds (real engine and registry)', () => {
  const prefix = uniqueName('itest-bk');
  // BuildKit's cache spans the whole engine: steps and files unique to this run are never cached from an earlier one.
  const token = prefix;
  const push = `${services.registry}/${prefix}`;
  afterAll(() => removeImages(push));

  it('RUN --mount=type=cache and COPY --chmod build, push, pin the registry digest, and run', async () => {
    const project = appProject(
      'modern',
      'FROM helmet/busybox:latest\nRUN --mount=type=cache,target=/var/cache/pip echo downloaded > /var/cache/pip/marker && cat /var/cache/pip/marker\nCOPY --chmod=750 . /app\n',
    );
    try {
      const r = await runCli(['all', '--push', push, '--json'], project.root);
      expect(r.code, r.stdout).toBe(0);
      const pushed = ndjson(r.stdout).find((e) => e.type === 'job-finished' && e.kind === 'push');
      const image: string = pushed.summary.replace(/^pushed /, '');
      expect(image).toMatch(new RegExp(`^${push.replace(/\./g, '\\.')}/modern@sha256:[0-9a-f]{64}$`));
      const tag = ndjson(r.stdout).find((e) => e.type === 'plan').entries[0].contentTag;
      expect(await registryDigest(services.registry, `${prefix}/modern`, tag)).toBe(image.split('@')[1]);
      expect((await runImage(image, ['sh', '/app/main.sh'])).output.trim()).toBe('app says hi');
      // --chmod applied: rwxr-x--- on the copied script.
      expect((await runImage(image, ['stat', '-c', '%a', '/app/main.sh'])).output.trim()).toBe('750');
    } finally {
      project.cleanup();
    }
  });

  it('a failing RUN: exit 1, and the output names the step and shows what it printed', async () => {
    const project = appProject('broken', 'FROM helmet/busybox:latest\nRUN echo "compiling the thing" && echo "error: it broke" && false\n');
    try {
      const r = await runCli(['all', '--push', push], project.root);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /\[app\] FAILED \(BUILD_FAILED\): build of app failed: step "\[[^\]]*2\/2\] RUN echo "compiling the thing" && echo "error: it broke" && false" failed: .*exit code: 1/,
      );
      expect(r.stderr).toContain('[app]   | compiling the thing');
      expect(r.stderr).toContain('[app]   | error: it broke');
    } finally {
      project.cleanup();
    }
  });

  it('progress: each step starts and finishes, and a step from the cache is marked cached', async () => {
    const project = appProject('steps', `FROM helmet/busybox:latest\nRUN echo preparing ${token}\nCOPY . /app\n`);
    try {
      expect((await runCli(['all', '--push', push], project.root)).code).toBe(0);
      writeFileSync(join(project.root, 'components/app/main.sh'), `echo "app says hello ${token}"\n`);
      const r = await runCli(['all', '--push', push, '--json'], project.root);
      expect(r.code).toBe(0);
      const steps = ndjson(r.stdout).filter((e) => e.type === 'build-step' && /\d\/3\]/.test(e.step));
      const states = (name: RegExp) => steps.filter((e) => name.test(e.step)).map((e) => e.state);
      expect(states(/RUN echo preparing/)).toEqual(['cached']);
      expect(states(/COPY \. \/app/)).toEqual(['started', 'done']);
      const done = steps.find((e) => e.state === 'done');
      expect(done.seconds).toBeGreaterThanOrEqual(0);
    } finally {
      project.cleanup();
    }
  });

  it('a fresh engine reuses layers from the registry: after a one-file change the slow step is cached', async () => {
    const project = appProject('fresh', `FROM helmet/busybox:latest\nRUN sleep 8 && echo ${token} > /slow\nCOPY . /app\n`);
    try {
      const first = await runCli(['all', '--push', push, '--json'], project.root);
      expect(first.code).toBe(0);
      const buildSeconds = (stdout: string) => ndjson(stdout).find((e) => e.type === 'job-finished' && e.kind === 'build').seconds;
      // A new CI runner: none of the images, none of the build cache.
      await removeImages(`${push}/fresh`);
      await docker.pruneBuilder({ all: true } as never);
      writeFileSync(join(project.root, 'components/app/main.sh'), `echo "fresh change ${token}"\n`);
      const second = await runCli(['all', '--push', push, '--json'], project.root);
      expect(second.code).toBe(0);
      const slow = ndjson(second.stdout).filter((e) => e.type === 'build-step' && e.step.includes('RUN sleep 8'));
      expect(slow.map((e) => e.state)).toEqual(['cached']);
      expect(buildSeconds(second.stdout)).toBeLessThan(buildSeconds(first.stdout) / 2);
    } finally {
      project.cleanup();
    }
  });

  it('--no-cache builds every step again and does not use the registry cache', async () => {
    const project = appProject('nocache', `FROM helmet/busybox:latest\nRUN echo again ${token}\nCOPY . /app\n`);
    try {
      expect((await runCli(['all', '--push', push], project.root)).code).toBe(0);
      const r = await runCli(['all', '--push', push, '--no-cache', '--json'], project.root);
      expect(r.code).toBe(0);
      const run = ndjson(r.stdout).filter((e) => e.type === 'build-step' && e.step.includes('RUN echo again'));
      expect(run.map((e) => e.state)).toEqual(['started', 'done']);
    } finally {
      project.cleanup();
    }
  });
});

describe.each(['buildkit', 'classic'])('a multi-stage build.target (%s builder)', (builder) => {
  const image = uniqueName(`itest-target-${builder}`);
  afterAll(() => removeImages(image));

  it('builds the named stage, and the target is part of the input digest', async () => {
    const project = makeProject({
      'dockerfiles/multi.Dockerfile': [
        'FROM helmet/busybox:latest AS base',
        'RUN echo base > /stage',
        'FROM base AS runtime',
        'RUN echo runtime > /stage',
        'FROM base AS debug',
        'RUN echo debug > /stage',
        '',
      ].join('\n'),
      'components/app/component.yaml': `name: app\nimplementation:\n  container:\n    command: [cat, /stage]\nbuild:\n  image: ${image}\n  dockerfile: dockerfiles/multi.Dockerfile\n  target: runtime\n`,
      'components/app/.dockerignore': 'component.yaml\n',
    });
    try {
      const r = await runCli(['build', 'app', '--builder', builder, '--json'], project.root);
      expect(r.code, r.stdout).toBe(0);
      const runtime = ndjson(r.stdout).find((e) => e.type === 'plan').entries[0];
      const report = JSON.parse((await import('node:fs')).readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
      expect((await runImage(report.components.app.imageId, ['cat', '/stage'])).output.trim()).toBe('runtime');
      writeFileSync(
        join(project.root, 'components/app/component.yaml'),
        (await import('node:fs')).readFileSync(join(project.root, 'components/app/component.yaml'), 'utf8').replace('target: runtime', 'target: debug'),
      );
      const plan = JSON.parse((await runCli(['plan', '--json'], project.root)).stdout);
      expect(plan.components[0]).toMatchObject({ state: 'needs-build', changes: ['target stage changed (runtime -> debug)'] });
      expect(plan.components[0].inputDigest).not.toBe(runtime.inputDigest);
    } finally {
      project.cleanup();
    }
  });
});
