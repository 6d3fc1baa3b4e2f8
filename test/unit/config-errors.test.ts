import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { componentFileSchema } from '../../src/project/component-schema.js';
import { makeProject, runCli, snapshotTree } from '../support/project.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const GOOD = `name: ok
inputs:
  - {name: n, type: Integer, default: "1"}
implementation:
  container:
    command: [python3, main.py]
    args: [--n, {inputValue: n}]
build:
  image: ok
  dockerfile: Dockerfile
`;

async function expectBadInput(yaml: string, expected: RegExp) {
  const p = makeProject({
    Dockerfile: 'FROM scratch\n',
    'components/ok/component.yaml': GOOD,
    'components/bad/component.yaml': yaml,
    'dist/build.json': '{"earlier": true}\n',
  });
  cleanups.push(p.cleanup);
  const before = snapshotTree(join(p.root, 'dist'));
  const r = await runCli(['all', '--push', '127.0.0.1:1/none'], p.root);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(expected);
  expect(snapshotTree(join(p.root, 'dist'))).toEqual(before);
  return r.stderr;
}

describe('bad component.yaml', () => {
  it('an unknown key names file, line, column and the allowed keys', async () => {
    const err = await expectBadInput(
      GOOD.replace('  dockerfile: Dockerfile', '  dockerfile: Dockerfile\n  dockerfiel: x'),
      /components\/bad\/component\.yaml:11:3: build\.dockerfiel: unknown key "dockerfiel" \(allowed here: image, dockerfile, context, args, add, from, platform, platforms, target, network, secrets, ssh\)/,
    );
    expect(err).toContain('nothing was built or written');
  });

  it('a wrong type says what was found, not that the key is missing', async () => {
    await expectBadInput(
      GOOD.replace('{name: n, type: Integer, default: "1"}', '{name: n, optional: "yes"}'),
      /component\.yaml:3:\d+: inputs\.0\.optional: expected true\/false, got a string \("yes"\)/,
    );
  });

  it('a missing required field', async () => {
    await expectBadInput(GOOD.replace('{name: n, type', '{type'), /component\.yaml:3:5: inputs\.0\.name: required key is missing/);
  });

  it('a YAML syntax error gets the parser line and column', async () => {
    await expectBadInput('name: [unclosed\nimplementation: {}\n', /components\/bad\/component\.yaml:2:1: Flow sequence/);
  });

  it('a placeholder naming an undeclared input', async () => {
    await expectBadInput(
      GOOD.replace('{inputValue: n}', '{inputValue: m}'),
      /component\.yaml:7:\d+: implementation\.container\.args\.1\.inputValue: refers to input "m"/,
    );
  });

  it('a Dockerfile that does not exist', async () => {
    await expectBadInput(
      GOOD.replace('dockerfile: Dockerfile', 'dockerfile: nope.Dockerfile'),
      /component\.yaml:10:3: build\.dockerfile: file not found: nope\.Dockerfile/,
    );
  });

  it('build: with neither build.image nor an image: line to take the name from', async () => {
    await expectBadInput(GOOD.replace('  image: ok\n', ''), /component\.yaml:\d+:\d+: build: needs build\.image \(the name of the image to build/);
  });

  it('from: naming an unknown component', async () => {
    await expectBadInput(`${GOOD.replace('image: ok', 'image: bad')}  from: nothere\n`, /build\.from: "nothere" is not a component with a build: section/);
  });
});

describe('KFP v1 compatibility', () => {
  it('accepts every published example component in shared/kfp/examples-v1', () => {
    const dir = join(import.meta.dirname, '..', 'fixtures', 'kfp-examples-v1');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const result = componentFileSchema.safeParse(parse(readFileSync(join(dir, f), 'utf8')));
      expect(result.error?.issues ?? [], f).toEqual([]);
    }
  });

  it('accepts if/then/else, concat, isPresent, outputPath, env, fileOutputs and typed objects', () => {
    const spec = {
      name: 'x',
      metadata: { annotations: { a: 'b' }, labels: { l: 'v' } },
      inputs: [{ name: 'a', type: { GCSPath: { data_type: 'CSV' } }, optional: true, default: 3 }],
      outputs: [{ name: 'o', type: 'String' }],
      implementation: {
        container: {
          image: 'busybox',
          command: ['sh', { concat: ['--a=', { inputValue: 'a' }] }],
          args: [{ if: { cond: { isPresent: 'a' }, then: ['--a', { inputPath: 'a' }], else: '--none' } }, { outputPath: 'o' }],
          env: { A: 'b' },
          fileOutputs: { o: '/tmp/o' },
        },
      },
    };
    expect(componentFileSchema.safeParse(spec).success).toBe(true);
  });
});
