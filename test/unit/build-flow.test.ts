import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BuildOptions, planBuild, runBuild } from '../../src/flow/build.js';
import type { PlanEntry } from '../../src/model/plan-entry.js';
import { FakeWorld } from '../support/fake-world.js';
import { type FileTree, makeProject, TINY_DOCKERFILE, tinyComponent } from '../support/project.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function project(files: FileTree): string {
  const p = makeProject({ ...TINY_DOCKERFILE, ...files });
  cleanups.push(p.cleanup);
  return p.root;
}

/** base <- child <- grandchild, and an unrelated component `other`. */
function chainProject(): string {
  const withFrom = (name: string, from: string): FileTree => {
    const files = tinyComponent(name, name, name);
    const key = `components/${name}/component.yaml`;
    return { ...files, [key]: `${files[key]}  from: ${from}\n` };
  };
  return project({
    'dockerfiles/base.Dockerfile': 'FROM helmet/busybox:latest\nRUN echo base\n',
    ...tinyComponent('base', 'base', 'base', 'dockerfiles/base.Dockerfile'),
    ...withFrom('child', 'base'),
    ...withFrom('grandchild', 'child'),
    ...tinyComponent('other', 'other', 'other'),
  });
}

const PUSH = 'reg.example/team';
const states = (entries: PlanEntry[]) => Object.fromEntries(entries.map((e) => [e.component, e.state]));

describe('the plan (fake engine and registry)', () => {
  it('a changed base Dockerfile: the base and every dependant need a build, with a reason naming the base; nothing else does', async () => {
    const root = chainProject();
    const world = new FakeWorld();
    const options: BuildOptions = { root, push: PUSH };
    expect((await runBuild(options, world.deps())).exitCode).toBe(0);
    writeFileSync(join(root, 'dockerfiles/base.Dockerfile'), 'FROM helmet/busybox:latest\nRUN echo base v2\n');

    const { plan } = await planBuild(options, world.deps());
    expect(states(plan.entries)).toEqual({ base: 'needs-build', child: 'needs-build', grandchild: 'needs-build', other: 'up-to-date' });
    const byName = new Map(plan.entries.map((e) => [e.component, e]));
    expect(byName.get('base')).toMatchObject({ changes: ['Dockerfile dockerfiles/base.Dockerfile changed'] });
    expect(byName.get('child')).toMatchObject({ changes: ['base component base changed'] });
    expect(byName.get('grandchild')).toMatchObject({ changes: ['base component child changed'] });
    // Exact for the whole graph before anything is built: every dependant's new content tag is known.
    for (const name of ['child', 'grandchild']) {
      expect(byName.get(name)!.contentTag).toMatch(/^in-[0-9a-f]{16}$/);
      expect(byName.get(name)!.inputDigest).not.toBe(world.images.get(`${PUSH}/${name}:${byName.get(name)!.contentTag}`)?.labels['io.helmet.input-digest']);
    }
  });

  it('an image the engine has but the registry lacks needs a push, not a build; running the plan pushes without building', async () => {
    const root = project(tinyComponent('solo', 'solo', 'solo'));
    const world = new FakeWorld();
    expect((await runBuild({ root, push: PUSH }, world.deps())).exitCode).toBe(0);
    world.registry.clear();
    const { plan } = await planBuild({ root, push: PUSH }, world.deps());
    expect(plan.entries[0]).toMatchObject({ state: 'needs-push', imageId: expect.stringMatching(/^sha256:/) });
    world.log = [];
    const result = await runBuild({ root, push: PUSH }, world.deps());
    expect(result.results[0]).toMatchObject({ action: 'pushed' });
    expect(world.log.map((l) => l.what.split(' ')[0])).toEqual(['push-start', 'push-end']);
  });

  it('a user tag that does not point at the image yet: needs-tag, moved by a registry copy in publish', async () => {
    const root = project(tinyComponent('solo', 'solo', 'solo'));
    const world = new FakeWorld();
    expect((await runBuild({ root, push: PUSH, tags: ['rel1'] }, world.deps())).exitCode).toBe(0);
    const { plan } = await planBuild({ root, push: PUSH, tags: ['rel1', 'rel2'] }, world.deps());
    expect(plan.entries[0]).toMatchObject({ state: 'needs-tag', missingTags: ['rel2'] });
    world.log = [];
    await runBuild({ root, push: PUSH, tags: ['rel1', 'rel2'] }, world.deps());
    expect(world.log.map((l) => l.what)).toEqual(['copy-tag team/solo:rel2']);
    const again = await planBuild({ root, push: PUSH, tags: ['rel1', 'rel2'] }, world.deps());
    expect(again.plan.entries[0]!.state).toBe('up-to-date');
  });
});

describe('the job graph (fake engine and registry)', () => {
  it('a slow push does not hold a build slot: with --concurrency 1 the second build starts before the first push ends', async () => {
    const root = project({ ...tinyComponent('a', 'a', 'a'), ...tinyComponent('b', 'b', 'b') });
    const world = new FakeWorld();
    world.pushMs = 300;
    const result = await runBuild({ root, push: PUSH, concurrency: 1 }, world.deps());
    expect(result.exitCode).toBe(0);
    const at = (what: string) => world.log.find((l) => l.what === what)!.at;
    const [first, second] = world.log.filter((l) => l.what.startsWith('build-start')).map((l) => l.what.split(' ')[1]!);
    expect(at(`build-start ${second}`)).toBeLessThan(at(`push-end ${PUSH}/${first}`));
    // And builds alone still respect the limit: the second starts after the first ends.
    expect(at(`build-start ${second}`)).toBeGreaterThanOrEqual(at(`build-end ${first}`));
  });

  it('a registry digest that differs from the pushed one fails the component with DIGEST_MISMATCH and writes no spec for it', async () => {
    const root = project(tinyComponent('c0', 'c0', 'c0'));
    const world = new FakeWorld();
    const lookup = world.registryClient.manifestDigest;
    let pushed = false;
    world.engine.push = async () => ((pushed = true), `sha256:${'a'.repeat(64)}`);
    world.registryClient.manifestDigest = async (...args) => (pushed ? `sha256:${'b'.repeat(64)}` : lookup(...args));
    const result = await runBuild({ root, push: PUSH }, world.deps());
    expect(result.exitCode).toBe(1);
    expect(result.results[0]!.error).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(result.results[0]!.error!.message).toContain(`but the registry reports sha256:${'b'.repeat(64)}`);
    expect(result.written).toEqual(['dist/build.json']);
  });

  it('files edited during the build fail it with CONTEXT_CHANGED and remove the content tag it would leave on the wrong image', async () => {
    const root = project(tinyComponent('c0', 'c0', 'c0'));
    const world = new FakeWorld();
    const build = world.engine.build;
    world.engine.build = async (req) => {
      writeFileSync(join(root, 'components/c0/main.sh'), 'echo edited\n');
      return build(req);
    };
    const result = await runBuild({ root }, world.deps());
    expect(result.exitCode).toBe(1);
    expect(result.results[0]!.error).toMatchObject({ code: 'CONTEXT_CHANGED', message: 'files changed while the build context was sent: main.sh' });
    expect([...world.images.keys()]).toEqual([]);
  });

  it('an unexpected exception is not dressed as a build failure: it reaches the caller as an internal error', async () => {
    const root = project(tinyComponent('c0', 'c0', 'c0'));
    const world = new FakeWorld();
    world.engine.push = async () => {
      throw new TypeError('garbled reply');
    };
    await expect(runBuild({ root, push: PUSH }, world.deps())).rejects.toThrow(TypeError);
  });

  it('a failed base blocks its dependants; they are reported as blocked and never built', async () => {
    const root = chainProject();
    const world = new FakeWorld();
    const build = world.engine.build;
    world.engine.build = async (req) => {
      if (req.name === 'base') throw new (await import('../../src/errors.js')).BuildFailedError('base', 'RUN false', ['boom']);
      return build(req);
    };
    const result = await runBuild({ root, push: PUSH }, world.deps());
    expect(result.exitCode).toBe(1);
    expect(Object.fromEntries(result.results.map((r) => [r.component, r.action]))).toEqual({
      base: 'failed',
      child: 'blocked',
      grandchild: 'blocked',
      other: 'pushed',
    });
    expect(result.results.find((r) => r.component === 'child')!.error).toMatchObject({ code: 'DEPENDENCY_FAILED' });
    expect(world.log.filter((l) => l.what.startsWith('build-start')).map((l) => l.what)).toEqual(['build-start other']);
  });
});
