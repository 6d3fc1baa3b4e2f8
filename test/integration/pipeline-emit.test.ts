import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { makeProject, runCli, TINY_DOCKERFILE, TINY_PIPELINE, tinyComponent } from '../support/project.js';
import { registryDigest, removeImages, services, uniqueName } from '../support/services.js';

describe('pipeline spec emission on --push and by emit', () => {
  const prefix = uniqueName('itest-emit');
  const project = makeProject({
    ...TINY_DOCKERFILE,
    ...tinyComponent('hello', 'hello', 'hello'),
    ...tinyComponent('world', 'world', 'world'),
    'pipeline.yaml': TINY_PIPELINE,
  });
  const push = () => `${services.registry}/${prefix}`;
  const spec = () => readFileSync(join(project.root, 'dist/tiny.yaml'), 'utf8');
  afterAll(async () => {
    await removeImages(push());
    project.cleanup();
  });

  it('all --push writes dist/tiny.yaml pinned to the registry digests; a second run writes the same bytes', async () => {
    const first = await runCli(['all', '--push', push()], project.root);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('wrote dist/tiny.yaml');
    const text = spec();
    const [ir] = parseAllDocuments(text).map((d) => d.toJS());
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    for (const [step, component] of [
      ['first', 'hello'],
      ['second', 'world'],
    ] as const) {
      const image: string = ir.deploymentSpec.executors[`exec-${step}`].container.image;
      expect(image).toBe(report.components[component].image);
      expect(await registryDigest(services.registry, `${prefix}/${component}`, report.components[component].tags[0])).toBe(image.split('@')[1]);
    }
    const again = await runCli(['all', '--push', push()], project.root);
    expect(again.stderr).toContain('2 reused');
    expect(spec()).toBe(text);
    const emitted = await runCli(['emit', '--push', push()], project.root);
    expect(emitted.code).toBe(0);
    expect(spec()).toBe(text);
  });

  it('after a change, emit refuses until it is built, and a per-component build re-pins only that image', async () => {
    const before = spec();
    writeFileSync(join(project.root, 'components/world/main.sh'), 'echo "world, changed"\n');
    const emitted = await runCli(['emit', '--push', push()], project.root);
    expect(emitted.code).toBe(1);
    expect(emitted.stderr).toContain('[world] FAILED (NOT_BUILT)');
    expect(emitted.stderr).toContain(`helmet-build build world --push ${push()}`);
    expect(spec()).toBe(before);

    const other = await runCli(['build', 'hello', '--push', push()], project.root);
    expect(other.code).toBe(0);
    expect(other.stderr).toContain('pipeline spec not written: no pushed image for the current inputs of world');
    expect(other.stderr).toContain(`(Build it first: helmet-build build world --push ${push()})`);
    expect(spec()).toBe(before);

    const rebuilt = await runCli(['build', 'world', '--push', push()], project.root);
    expect(rebuilt.code).toBe(0);
    const after = spec();
    expect(after).not.toBe(before);
    const image = (text: string, step: string) => parseAllDocuments(text)[0]!.toJS().deploymentSpec.executors[`exec-${step}`].container.image;
    expect(image(after, 'first')).toBe(image(before, 'first'));
    expect(image(after, 'second')).not.toBe(image(before, 'second'));
  });

  it('run --push pulls the pinned images by digest when the engine lacks them, and runs the steps', async () => {
    await removeImages(push());
    const r = await runCli(['run', '--push', push(), '--json'], project.root);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const starts = events.filter((e) => e.type === 'job-started' && e.kind === 'step');
    expect(starts.map((e) => e.subject)).toEqual(['first', 'second']);
    for (const s of starts) expect(s.title).toMatch(new RegExp(`^running ${push().replace(/\./g, '\\.')}/(hello|world)@sha256:[0-9a-f]{64}$`));
    expect(events.filter((e) => e.type === 'job-log' && e.kind === 'step').map((e) => e.line)).toEqual(['hello', 'world, changed']);
    expect(events.filter((e) => e.type === 'job-started' && e.kind === 'build')).toEqual([]);
  });
});
