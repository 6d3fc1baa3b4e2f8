/**
 * The checked project kept in .helmet-cache/: used again only while every file and folder the load
 * read is as it was, by the same build of helmet-build, and never for a project with problems.
 * "Used again" is seen by a mark put into the cached copy (a description no file has): a run that
 * returns the mark read the cache, one that does not loaded the files.
 */
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadProject } from '../../src/project/load-project.js';
import { openProject } from '../../src/project/project-cache.js';
import { makeProject, TINY_DOCKERFILE, TINY_PIPELINE, tinyComponent } from '../support/project.js';

const BUILD = 'test-build-1';
/** Files written by the test are older than the racy window on this clock. */
const later = () => Date.now() + 10_000;
const open = (root: string, buildId = BUILD) => openProject(root, { buildId, now: later });
const CACHE = '.helmet-cache/project-v1.json';

/** Puts a mark into the cached project; a project returned with it came from the cache. */
function mark(root: string): void {
  const path = join(root, CACHE);
  const cache = JSON.parse(readFileSync(path, 'utf8'));
  cache.project.components[0].spec.description = 'MARK FROM THE CACHE';
  writeFileSync(path, JSON.stringify(cache));
}
const fromCache = (p: { components: { spec: { description?: string } }[] }) => p.components[0]!.spec.description === 'MARK FROM THE CACHE';

describe('the checked project, cached by stat', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  function project() {
    const p = makeProject({
      ...TINY_DOCKERFILE,
      ...tinyComponent('hello', 'hello', 'hi'),
      ...tinyComponent('world', 'world', 'hi'),
      'pipeline.yaml': TINY_PIPELINE,
    });
    cleanups.push(p.cleanup);
    return p.root;
  }

  it('a second run with nothing changed reads the cache, and gets the same project the files give', async () => {
    const root = project();
    const first = await open(root);
    expect(first).toEqual(loadProject(root));
    const again = await open(root);
    expect(again).toEqual(first);
    // The references survive: a step's component is the project's component object.
    expect(again.pipeline!.steps[0]!.component).toBe(again.components.find((c) => c.name === 'hello'));
    mark(root);
    expect(fromCache(await open(root))).toBe(true);
  });

  it('is not used after a component.yaml, pipeline.yaml or a Dockerfile changed, or a component was added or removed', async () => {
    const root = project();
    const changes: [string, () => void, (p: Awaited<ReturnType<typeof open>>) => void][] = [
      [
        'component.yaml edited',
        () =>
          writeFileSync(
            join(root, 'components/hello/component.yaml'),
            readFileSync(join(root, 'components/hello/component.yaml'), 'utf8').replace('prints a greeting', 'says hello'),
          ),
        (p) => expect(p.components.find((c) => c.name === 'hello')!.spec.description).toBe('says hello'),
      ],
      [
        'pipeline.yaml edited',
        () => writeFileSync(join(root, 'pipeline.yaml'), TINY_PIPELINE.replace('default: me', 'default: you')),
        (p) => expect(p.pipeline!.parameters[0]!.default).toBe('you'),
      ],
      ['component added', () => writeTiny(root, 'third'), (p) => expect(p.components.map((c) => c.name)).toContain('third')],
      [
        'component.yaml removed',
        () => unlinkSync(join(root, 'components/third/component.yaml')),
        (p) => expect(p.components.map((c) => c.name)).not.toContain('third'),
      ],
      ['pipeline.yaml removed', () => unlinkSync(join(root, 'pipeline.yaml')), (p) => expect(p.pipeline).toBeUndefined()],
    ];
    for (const [what, change, check] of changes) {
      await open(root);
      mark(root);
      change();
      const p = await open(root);
      expect(fromCache(p), what).toBe(false);
      check(p);
    }
  });

  it('a Dockerfile removed since: the load runs and reports it (exit 2), on every run', async () => {
    const root = project();
    await open(root);
    rmSync(join(root, 'dockerfiles/tiny.Dockerfile'));
    await expect(open(root)).rejects.toThrow(ConfigError);
    await expect(open(root)).rejects.toThrow(/tiny\.Dockerfile/);
  });

  it('a project with problems is never kept: each run reports them', async () => {
    const root = project();
    writeFileSync(join(root, 'pipeline.yaml'), `${TINY_PIPELINE}  third:\n    component: nowhere\n`);
    await expect(open(root)).rejects.toThrow(ConfigError);
    expect(() => readFileSync(join(root, CACHE))).toThrow();
  });

  it('another build of helmet-build loads the files again; the sources keep no cache', async () => {
    const root = project();
    await open(root);
    mark(root);
    expect(fromCache(await open(root, 'test-build-2'))).toBe(false);
    rmSync(join(root, '.helmet-cache'), { recursive: true });
    await openProject(root, { buildId: undefined, now: later });
    expect(() => readFileSync(join(root, CACHE))).toThrow();
  });

  it('files changed within the racy window of the load are not kept', async () => {
    const root = project();
    await openProject(root, { buildId: BUILD, now: Date.now });
    expect(() => readFileSync(join(root, CACHE))).toThrow();
  });

  it('a damaged cache file is ignored', async () => {
    const root = project();
    await open(root);
    writeFileSync(join(root, CACHE), '{"buildId": "test-build-1", "watched": 7');
    expect((await open(root)).components.map((c) => c.name)).toEqual(['hello', 'world']);
  });
});

function writeTiny(root: string, name: string): void {
  for (const [path, content] of Object.entries(tinyComponent(name, name, 'hi'))) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content as string);
  }
}
