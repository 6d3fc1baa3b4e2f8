/**
 * `new` names components as KFP repositories do (`confusion_matrix`), writes files the loader
 * accepts as they are, and names no editor schema that lies outside the project.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { loadProject } from '../../src/project/load-project.js';
import { newComponent } from '../../src/scaffold/new-component.js';
import { makeProject } from '../support/project.js';

describe('helmet-build new', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  const project = () => {
    const p = makeProject({ 'components/.keep': '' });
    cleanups.push(p.cleanup);
    return p.root;
  };

  it('takes the folder names KFP repositories use, and the loader accepts what it writes', () => {
    const root = project();
    const written = newComponent({ root, name: 'confusion_matrix' });
    expect(written).toContain('components/confusion_matrix/confusion_matrix.py');
    newComponent({ root, name: 'roc.v2' });
    const loaded = loadProject(root).components;
    expect(loaded.map((c) => [c.name, c.kind === 'built' ? c.build.image : undefined])).toEqual([
      ['confusion_matrix', 'confusion_matrix'],
      ['roc.v2', 'roc.v2'],
    ]);
    const spec = readFileSync(join(root, 'components/confusion_matrix/component.yaml'), 'utf8');
    expect(spec).toMatch(/^name: Confusion matrix\n/);
    expect(spec).not.toContain('$schema');
  });

  it('--dockerfile alone: a Dockerfile of its own beside component.yaml, which the loader finds there and the image never holds', () => {
    const root = project();
    const written = newComponent({ root, name: 'roc', dockerfile: true });
    expect(written).toContain('components/roc/Dockerfile');
    expect(written).not.toContain('dockerfiles/base.Dockerfile');
    const spec = readFileSync(join(root, 'components/roc/component.yaml'), 'utf8');
    expect(spec).not.toContain('dockerfile:');
    expect(loadProject(root).components[0]).toMatchObject({ kind: 'built', build: { dockerfilePath: join(root, 'components/roc/Dockerfile') } });
    expect(readFileSync(join(root, 'components/roc/.dockerignore'), 'utf8').split('\n')).toContain('Dockerfile');
    expect(() => newComponent({ root, name: 'other', dockerfile: 'nowhere/Dockerfile' })).toThrow(/--dockerfile nowhere\/Dockerfile: file not found/);
  });

  it('refuses names that are no lowercase folder and image name', () => {
    const root = project();
    for (const bad of ['My_Comp', 'a b', '-lead', 'trail_', 'double__under', 'x/y']) {
      expect(() => newComponent({ root, name: bad }), bad).toThrow(UsageError);
    }
  });
});
