import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BuildRequest, EngineClient, PushRequest } from '../../src/engine/engine-client.js';
import type { HelmetEvent } from '../../src/events.js';
import { BuildRun } from '../../src/plan/build-run.js';
import { CredentialSource } from '../../src/registry/credentials.js';
import type { RegistryClient } from '../../src/registry/registry-client.js';
import { TINY_DOCKERFILE, makeProject, tinyComponent } from '../support/project.js';

/** An engine that records calls; builds take `buildMs` so that overlapping builds can be counted. */
class FakeEngine implements Partial<EngineClient> {
  running = 0;
  maxRunning = 0;
  builds: string[] = [];
  constructor(private readonly pushedDigest: string, private readonly buildMs = 20) {}
  async ping() {}
  async build(req: BuildRequest) {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    req.context.resume();
    await new Promise((r) => setTimeout(r, this.buildMs));
    this.running--;
    this.builds.push(req.name);
    return `sha256:${'1'.repeat(64)}`;
  }
  async push(_req: PushRequest) {
    return this.pushedDigest;
  }
  async inspectImage() {
    return undefined;
  }
}

function fakeRegistry(answer: (repo: string, tag: string) => string | undefined): RegistryClient {
  return { manifestDigest: async (_r: string, repo: string, tag: string) => answer(repo, tag), copyTag: async () => {} } as unknown as RegistryClient;
}

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function project(n: number) {
  const files = { ...TINY_DOCKERFILE };
  for (let i = 0; i < n; i++) Object.assign(files, tinyComponent(`c${i}`, `c${i}`, `c${i}`));
  const p = makeProject(files);
  cleanups.push(p.cleanup);
  return p.root;
}

const credentials = new CredentialSource({ env: {}, dockerConfigDir: '/nonexistent' });
const GOOD = `sha256:${'a'.repeat(64)}`;

describe('BuildRun (fake engine and registry)', () => {
  it('a registry digest that differs from the pushed one fails the component with DIGEST_MISMATCH', async () => {
    const root = project(1);
    const events: HelmetEvent[] = [];
    let pushed = false;
    const engine = new FakeEngine(GOOD);
    const registry = fakeRegistry(() => (pushed ? `sha256:${'b'.repeat(64)}` : undefined));
    engine.push = async () => ((pushed = true), GOOD);
    const result = await new BuildRun({ engine: engine as unknown as EngineClient, registry, credentials, onEvent: (e) => events.push(e) }).run({
      root,
      push: 'reg.example/team',
    });
    expect(result.exitCode).toBe(1);
    expect(result.results[0]!.error).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(result.results[0]!.error!.message).toContain(`but the registry reports sha256:${'b'.repeat(64)}`);
    const report = JSON.parse(readFileSync(join(root, 'dist/build.json'), 'utf8'));
    expect(report.ok).toBe(false);
    expect(() => readFileSync(join(root, 'dist/components/c0/component.yaml'))).toThrow();
  });

  it('never runs more builds at once than --concurrency', async () => {
    const root = project(5);
    const pushed = new Set<string>();
    const engine = new FakeEngine(GOOD);
    engine.push = async (req: PushRequest) => (pushed.add(`${req.repository}:${req.tag}`), GOOD);
    const registry = fakeRegistry((repo, tag) => (pushed.has(`reg.example/${repo}:${tag}`) ? GOOD : undefined));
    const result = await new BuildRun({ engine: engine as unknown as EngineClient, registry, credentials }).run({
      root,
      push: 'reg.example/team',
      concurrency: 2,
    });
    expect(result.ok).toBe(true);
    expect(engine.builds.sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(engine.maxRunning).toBe(2);
  });
});

describe('BuildRun when files change during the build', () => {
  it('fails with CONTEXT_CHANGED and removes the content tag it would otherwise leave on the wrong image', async () => {
    const root = project(1);
    const engine = new FakeEngine(GOOD);
    const removed: string[] = [];
    Object.assign(engine, {
      // Edit a file after the digest was computed, before the engine reads the context.
      build: async (req: BuildRequest) => {
        writeFileSync(join(root, 'components/c0/main.sh'), 'echo edited\n');
        for await (const _ of req.context);
        return `sha256:${'1'.repeat(64)}`;
      },
      removeImage: async (ref: string) => void removed.push(ref),
    });
    const result = await new BuildRun({ engine: engine as unknown as EngineClient, registry: fakeRegistry(() => undefined), credentials }).run({ root });
    expect(result.exitCode).toBe(1);
    expect(result.results[0]!.error).toMatchObject({ code: 'CONTEXT_CHANGED', message: 'files changed while the build context was sent: main.sh' });
    expect(removed).toEqual([`c0:${result.results[0]!.tags[0]}`]);
  });
});
