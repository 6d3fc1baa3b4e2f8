import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, snapshotTree, TINY_PIPELINE, tinyComponent, tinyPipelineProject } from '../support/project.js';
import { useTripwires } from '../support/tripwire.js';

describe('every bad input is refused in the load phase, all at once, before the engine or registry is touched', () => {
  const wires = useTripwires();

  async function expectRefused(files: Record<string, string>, args: string[], expected: RegExp[], prepare?: (root: string) => void): Promise<string> {
    const p = tinyPipelineProject(TINY_PIPELINE, {
      'dist/build.json': '{"earlier": true}\n',
      'dist/components/hello/component.yaml': '# earlier\n',
      ...files,
    });
    try {
      prepare?.(p.root);
      const before = snapshotTree(join(p.root, 'dist'));
      const r = await runCli(args, p.root);
      expect(r.code, r.stderr).toBe(2);
      for (const e of expected) expect(r.stderr).toMatch(e);
      expect(snapshotTree(join(p.root, 'dist'))).toEqual(before);
      expect(wires.connections()).toBe(0);
      return r.stderr;
    } finally {
      p.cleanup();
    }
  }

  const push = () => ['--push', `127.0.0.1:${wires.registryPort()}/team`];

  it('a pipeline parameter whose default is not of its type (Integer "abc")', async () => {
    await expectRefused(
      {
        'pipeline.yaml': TINY_PIPELINE.replace(
          '  who: {type: String, default: me}',
          '  who: {type: String, default: me}\n  epochs: {type: Integer, default: "abc"}',
        ),
      },
      ['all', ...push()],
      [/pipeline\.yaml:4:\d+: parameters\.epochs\.default: "abc" is not an integer \(the parameter is of type Integer\)/],
    );
  });

  it('a dangling from:', async () => {
    const hello = tinyComponent('hello', 'hello', 'hi')['components/hello/component.yaml'] as string;
    await expectRefused(
      { 'components/hello/component.yaml': `${hello}  from: nowhere\n` },
      ['all', ...push()],
      [/components\/hello\/component\.yaml:12:3: build\.from: "nowhere" is not a component with a build: section \(known: hello, world\)/],
    );
  });

  it('a pipeline step naming a missing component', async () => {
    await expectRefused(
      { 'pipeline.yaml': TINY_PIPELINE.replace('component: world', 'component: nobody') },
      ['build', 'hello', ...push()],
      [/pipeline\.yaml:10:5: steps\.second\.component: unknown component "nobody" \(known: hello, world\)/],
    );
  });

  it('two bad files at once: both are listed in one report', async () => {
    const world = tinyComponent('world', 'world', 'hi')['components/world/component.yaml'] as string;
    const stderr = await expectRefused(
      {
        'components/world/component.yaml': world.replace('default: world', 'default: world, colour: blue'),
        'pipeline.yaml': TINY_PIPELINE.replace('{param: who}', '{param: whom}'),
      },
      ['all', ...push()],
      [
        /components\/world\/component\.yaml:4:\d+: inputs\.0\.colour: unknown key "colour"/,
        /pipeline\.yaml:8:\d+: steps\.first\.args\.who\.param: unknown pipeline parameter "whom"/,
      ],
    );
    expect(stderr).toContain('nothing was built or written');
  });

  it('file wiring that does not fit: an unknown output, a file given to a value input, a value given to a file input', async () => {
    const world = tinyComponent('world', 'world', 'hi')['components/world/component.yaml'] as string;
    const hello = tinyComponent('hello', 'hello', 'hi')['components/hello/component.yaml'] as string;
    await expectRefused(
      {
        'components/world/component.yaml': world
          .replace('inputs:\n', 'outputs:\n  - {name: report, type: Dataset}\ninputs:\n')
          .replace('args: [--who, {inputValue: who}]', 'args: [--who, {inputValue: who}, --out, {outputPath: report}]'),
        'components/hello/component.yaml': hello
          .replace('inputs:\n', 'inputs:\n  - {name: data, type: Dataset, optional: true}\n')
          .replace('args: [--who, {inputValue: who}]', 'args: [--who, {inputValue: who}, {inputPath: data}]'),
        'pipeline.yaml': [
          'name: files',
          'steps:',
          '  make: {component: world}',
          '  use: {component: hello, args: {who: {from: make, output: report}}}',
          '  typo: {component: hello, args: {data: {from: make, output: reprot}}}',
          '  literal: {component: hello, args: {data: somefile.csv}}',
          '',
        ].join('\n'),
      },
      ['all', ...push()],
      [
        /pipeline\.yaml:4:\d+: steps\.use\.args\.who: a file is not a value: input who of hello cannot take output report of step make/,
        /pipeline\.yaml:5:\d+: steps\.typo\.args\.data\.output: step make \(component world\) has no output "reprot" \(outputs: report\)/,
        /pipeline\.yaml:6:\d+: steps\.literal\.args\.data: input data of hello is a file: bind it to another step's output/,
      ],
    );
  });

  it('a parameter bound to an input of another type, and a --tag that is not a tag', async () => {
    await expectRefused(
      {
        'components/hello/component.yaml': (tinyComponent('hello', 'hello', 'hi')['components/hello/component.yaml'] as string).replace(
          '{name: who, type: String, default: world}',
          '{name: who, type: Integer, default: "1"}',
        ),
      },
      ['all', ...push()],
      [/pipeline\.yaml:8:\d+: steps\.first\.args\.who\.param: parameter "who" is STRING, but input who of hello is NUMBER_INTEGER/],
    );
    await expectRefused({}, ['all', ...push(), '--tag', 'bad tag'], [/--tag "bad tag": a tag is 1-128 letters/]);
  });
  it('paths out of the project: an absolute context, ../.., a Dockerfile out of the project, a linked folder that leads out', async () => {
    const hello = tinyComponent('hello', 'hello', 'hi')['components/hello/component.yaml'] as string;
    const world = tinyComponent('world', 'world', 'hi')['components/world/component.yaml'] as string;
    await expectRefused(
      {
        'components/hello/component.yaml': `${hello}  context: /etc\n`,
        'components/world/component.yaml': world.replace('dockerfile: dockerfiles/tiny.Dockerfile', 'dockerfile: ../../etc/passwd'),
      },
      ['all', ...push()],
      [
        /components\/hello\/component\.yaml:12:3: build\.context: must be a folder inside the project \(\/etc resolves to \/etc\)/,
        /components\/world\/component\.yaml:11:3: build\.dockerfile: must be a file inside the project \(\.\.\/\.\.\/etc\/passwd resolves to \/etc\/passwd\)/,
      ],
    );
    await expectRefused(
      // From components/hello, ../.. is the project root (allowed); one more level leaves it.
      { 'components/hello/component.yaml': `${hello}  context: ../../..\n` },
      ['all', ...push()],
      [/build\.context: must be a folder inside the project \(\.\.\/\.\.\/\.\. resolves to /],
    );
    await expectRefused(
      { 'components/hello/component.yaml': hello.replace('dockerfile: dockerfiles/tiny.Dockerfile', 'dockerfile: /etc/hostname') },
      ['all', ...push()],
      [/build\.dockerfile: must be a file inside the project \(\/etc\/hostname resolves to \/etc\/hostname\)/],
    );
    await expectRefused(
      { 'components/hello/component.yaml': `${hello}  context: linked\n` },
      ['all', ...push()],
      [/build\.context: must be a folder inside the project \(linked resolves to \/etc\)/],
      (root) => symlinkSync('/etc', join(root, 'components/hello/linked')),
    );
  });

  it('two components with the same image: both are named, nothing is built', async () => {
    const world = tinyComponent('world', 'world', 'hi')['components/world/component.yaml'] as string;
    await expectRefused(
      { 'components/world/component.yaml': world.replace('image: world', 'image: hello') },
      ['all', ...push()],
      [
        /components\/hello\/component\.yaml:10:3: build\.image: "hello" is also the image of world: each component needs an image of its own/,
        /components\/world\/component\.yaml:10:3: build\.image: "hello" is also the image of hello/,
      ],
    );
  });
});
