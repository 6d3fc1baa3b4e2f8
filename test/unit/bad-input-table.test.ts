/**
 * Every kind of bad input a user can hit, one row each: exit 2 with a message saying what is wrong,
 * never an internal error, `dist/` untouched, and neither the engine nor the registry contacted.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, snapshotTree, TINY_PIPELINE, tinyPipelineProject, withEnv } from '../support/project.js';
import { useTripwires } from '../support/tripwire.js';

const HELLO = 'components/hello/component.yaml';
const PIPELINE = 'pipeline.yaml';

/** hello's component.yaml with `body` in place of everything but name. */
const hello = (body: string) => `name: hello step\n${body}`;
const CONTAINER = 'implementation:\n  container:\n    command: [/bin/sh, /app/main.sh]\n';
const BUILD = 'build:\n  image: hello\n  dockerfile: dockerfiles/tiny.Dockerfile\n';
const INPUT = 'inputs:\n  - {name: who, type: String, default: world}\n';
/** A pipeline.yaml with these steps (and parameter `who`). */
const pipeline = (steps: string, head = 'name: tiny\nparameters:\n  who: {type: String, default: me}\n') => `${head}steps:\n${steps}`;

interface Case {
  name: string;
  /** Files written over the two-component project (a Buffer for raw bytes). */
  files?: Record<string, string | Buffer>;
  /** Runs on the project folder before the CLI. */
  prepare?: (root: string) => void;
  /** CLI arguments (default: `all --push` to the tripwire registry). */
  args?: string[];
  /** Environment variables set for the run (restored after). */
  env?: Record<string, string>;
  expect: RegExp;
}

const CASES: Case[] = [
  // component.yaml: schema
  { name: 'unknown top-level key', files: { [HELLO]: hello(`${CONTAINER}${BUILD}imag: x\n`) }, expect: /unknown key "imag" \(allowed here: .*implementation/ },
  { name: 'unknown key under build', files: { [HELLO]: hello(`${CONTAINER}${BUILD}  dockerfil: x\n`) }, expect: /build\.dockerfil: unknown key/ },
  {
    name: 'a key of the wrong type is not called missing',
    files: { [HELLO]: `name: 5\n${CONTAINER}${BUILD}` },
    expect: /:1:1: name: expected a string, got a number \(5\); put it in quotes/,
  },
  { name: 'implementation missing', files: { [HELLO]: hello(BUILD) }, expect: /implementation: required key is missing/ },
  {
    name: 'command not a list',
    files: { [HELLO]: hello(`implementation:\n  container:\n    command: echo\n${BUILD}`) },
    expect: /:4:5: implementation\.container\.command: expected a list, got a string \("echo"\)/,
  },
  {
    name: 'an unknown placeholder',
    files: { [HELLO]: hello(`${INPUT}implementation:\n  container:\n    command: [{inputVal: who}]\n${BUILD}`) },
    expect: /command\.0: is not valid here/,
  },
  {
    name: 'input without a name',
    files: { [HELLO]: hello(`inputs:\n  - {type: String}\n${CONTAINER}${BUILD}`) },
    expect: /inputs\.0\.name: required key is missing/,
  },
  {
    name: 'two inputs of one name',
    files: { [HELLO]: hello(`inputs:\n  - {name: who}\n  - {name: who}\n${CONTAINER}${BUILD}`) },
    expect: /inputs\.1\.name: input "who" is declared twice/,
  },
  {
    name: 'two outputs of one name',
    files: { [HELLO]: hello(`outputs:\n  - {name: o}\n  - {name: o}\n${CONTAINER}${BUILD}`) },
    expect: /outputs\.1\.name: output "o" is declared twice/,
  },
  {
    name: 'fileOutputs naming no output',
    files: { [HELLO]: hello(`implementation:\n  container:\n    command: [x]\n    fileOutputs: {nope: /tmp/x}\n${BUILD}`) },
    expect: /fileOutputs\.nope: .*not declared under outputs/,
  },
  {
    name: 'placeholder naming an undeclared input',
    files: { [HELLO]: hello(`implementation:\n  container:\n    command: [{inputValue: nope}]\n${BUILD}`) },
    expect: /refers to input "nope", which is not declared/,
  },
  {
    name: 'placeholder naming an undeclared output',
    files: { [HELLO]: hello(`implementation:\n  container:\n    command: [{outputPath: nope}]\n${BUILD}`) },
    expect: /refers to output "nope", which is not declared/,
  },
  {
    name: 'build: without build.image, and an image: that gives no image name',
    files: { [HELLO]: hello(`implementation:\n  container:\n    image: Not_An_Image:1\n    command: [x]\nbuild: {dockerfile: dockerfiles/tiny.Dockerfile}\n`) },
    expect: /build: needs build\.image: "Not_An_Image:1" gives no image name/,
  },
  {
    name: 'build: without dockerfile:, and no Dockerfile beside component.yaml',
    files: { [HELLO]: hello(`${CONTAINER}build: {image: hello}\n`) },
    expect: /build: has no dockerfile: and there is no Dockerfile beside component\.yaml \(components\/hello\/Dockerfile\)/,
  },
  { name: 'neither build: nor an image', files: { [HELLO]: hello(CONTAINER) }, expect: /needs either implementation\.container\.image/ },
  {
    name: 'build.image not a repository name',
    files: { [HELLO]: hello(`${CONTAINER}build: {image: Hello_World!, dockerfile: dockerfiles/tiny.Dockerfile}\n`) },
    expect: /build\.image: must be a lowercase image repository name/,
  },
  { name: 'build.args value that is a map', files: { [HELLO]: hello(`${CONTAINER}${BUILD}  args: {A: {b: c}}\n`) }, expect: /build\.args\.A: / },
  {
    name: 'Dockerfile not found',
    files: { [HELLO]: hello(`${CONTAINER}build: {image: hello, dockerfile: nope.Dockerfile}\n`) },
    expect: /build\.dockerfile: file not found: nope\.Dockerfile/,
  },
  {
    name: 'Dockerfile is a folder',
    files: { [HELLO]: hello(`${CONTAINER}build: {image: hello, dockerfile: dockerfiles}\n`) },
    expect: /build\.dockerfile: file not found/,
  },
  {
    name: 'Dockerfile out of the project',
    files: { [HELLO]: hello(`${CONTAINER}build: {image: hello, dockerfile: ../../etc/passwd}\n`) },
    expect: /build\.dockerfile: must be a file inside the project/,
  },
  {
    name: 'absolute Dockerfile',
    files: { [HELLO]: hello(`${CONTAINER}build: {image: hello, dockerfile: /etc/passwd}\n`) },
    expect: /build\.dockerfile: must be a file inside the project/,
  },
  {
    name: 'absolute context',
    files: { [HELLO]: hello(`${CONTAINER}${BUILD}  context: /etc\n`) },
    expect: /build\.context: must be a folder inside the project/,
  },
  {
    name: 'context ../../..',
    files: { [HELLO]: hello(`${CONTAINER}${BUILD}  context: ../../..\n`) },
    expect: /build\.context: must be a folder inside the project/,
  },
  { name: 'context that is a file', files: { [HELLO]: hello(`${CONTAINER}${BUILD}  context: main.sh\n`) }, expect: /build\.context: folder not found/ },
  { name: 'from: an unknown component', files: { [HELLO]: hello(`${CONTAINER}${BUILD}  from: nope\n`) }, expect: /build\.from: .*nope/ },
  { name: 'from: itself', files: { [HELLO]: hello(`${CONTAINER}${BUILD}  from: hello\n`) }, expect: /build\.from: .*hello/ },
  {
    name: 'two components with one image',
    files: { [HELLO]: hello(`${CONTAINER}build: {image: world, dockerfile: dockerfiles/tiny.Dockerfile}\n`) },
    expect: /world/,
  },
  // component.yaml: YAML itself
  { name: 'YAML syntax error', files: { [HELLO]: 'name: [unclosed\n' }, expect: /component\.yaml:\d+:\d+: / },
  { name: 'empty file', files: { [HELLO]: '' }, expect: /component\.yaml: expected a mapping, got nothing \(the file is empty\)/ },
  { name: 'a list, not a mapping', files: { [HELLO]: '- a\n- b\n' }, expect: /component\.yaml:1:1: expected a mapping, got a list/ },
  { name: 'two YAML documents', files: { [HELLO]: 'name: a\n---\nname: b\n' }, expect: /multiple documents/ },
  { name: 'a key given twice', files: { [HELLO]: hello(`name: again\n${CONTAINER}${BUILD}`) }, expect: /Map keys must be unique/ },
  {
    name: 'not UTF-8',
    files: { [HELLO]: Buffer.concat([Buffer.from('name: ok\ndescription: '), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]) },
    expect: /component\.yaml:2:1: is not UTF-8 text/,
  },
  { name: 'aliases that expand exponentially', files: { [HELLO]: aliasBomb() }, expect: /aliases \(\*name\) expand too far/ },
  { name: 'flow nesting thousands deep', files: { [HELLO]: `name: ${'['.repeat(5000)}${']'.repeat(5000)}\n` }, expect: /nested more than 64 levels deep/ },
  {
    name: 'placeholders nested 300 deep',
    files: { [HELLO]: hello(`implementation:\n  container:\n    command: [${'{concat: ['.repeat(300)}x${']}'.repeat(300)}]\n${BUILD}`) },
    expect: /nested more than 64 levels deep/,
  },
  // component.yaml and pipeline.yaml: a value of the wrong type says what was found, not that the key is missing
  {
    name: 'command: a string for a list',
    files: { [HELLO]: hello(`implementation:\n  container:\n    command: "python3 x.py"\n${BUILD}`) },
    expect: /component\.yaml:4:5: implementation\.container\.command: expected a list, got a string \("python3 x\.py"\); write a list/,
  },
  {
    name: 'implementation: a list for a mapping',
    files: { [HELLO]: hello(`implementation: [container]\n${BUILD}`) },
    expect: /:2:1: implementation: expected a mapping, got a list/,
  },
  {
    name: 'build: a string for a mapping',
    files: { [HELLO]: hello(`${CONTAINER}build: hello\n`) },
    expect: /:5:1: build: expected a mapping, got a string \("hello"\)/,
  },
  { name: 'a scalar document', files: { [HELLO]: 'just some words\n' }, expect: /component\.yaml:1:1: expected a mapping, got a string \("just some words"\)/ },
  { name: 'a number document', files: { [HELLO]: '42\n' }, expect: /component\.yaml:1:1: expected a mapping, got a number \(42\)/ },
  {
    name: 'inputs: a mapping for a list',
    files: { [HELLO]: hello(`inputs: {name: who}\n${CONTAINER}${BUILD}`) },
    expect: /:2:1: inputs: expected a list, got a mapping/,
  },
  {
    name: 'description: a boolean for a string',
    files: { [HELLO]: hello(`description: true\n${CONTAINER}${BUILD}`) },
    expect: /description: expected a string, got a boolean \(true\)/,
  },
  {
    name: 'version: a number for a string',
    files: { [HELLO]: hello(`version: 1.5\n${CONTAINER}${BUILD}`) },
    expect: /version: expected a string, got a number \(1\.5\)/,
  },
  {
    name: 'optional: a string for a boolean',
    files: { [HELLO]: hello(`inputs:\n  - {name: who, optional: "yes"}\n${CONTAINER}${BUILD}`) },
    expect: /inputs\.0\.optional: expected true\/false, got a string \("yes"\)/,
  },
  {
    name: 'input default: a list for a value',
    files: { [HELLO]: hello(`inputs:\n  - {name: who, default: [a]}\n${CONTAINER}${BUILD}`) },
    expect: /inputs\.0\.default: expected a string, a number or true\/false, got a list/,
  },
  {
    name: 'a command item of the wrong type',
    files: { [HELLO]: hello(`implementation:\n  container:\n    command: [true]\n${BUILD}`) },
    expect: /command\.0: expected a string or one of the KFP placeholders, got a boolean \(true\)/,
  },
  {
    name: 'build.args: a list for a mapping',
    files: { [HELLO]: hello(`${CONTAINER}${BUILD}  args: [A=1]\n`) },
    expect: /build\.args: expected a mapping, got a list/,
  },
  { name: 'pipeline.yaml a list', files: { [PIPELINE]: '- first\n- second\n' }, expect: /pipeline\.yaml:1:1: expected a mapping, got a list/ },
  { name: 'pipeline.yaml empty', files: { [PIPELINE]: '# nothing yet\n' }, expect: /pipeline\.yaml: expected a mapping, got nothing \(the file is empty\)/ },
  {
    name: 'steps: a list for a mapping',
    files: { [PIPELINE]: 'name: tiny\nsteps: [first]\n' },
    expect: /pipeline\.yaml:2:1: steps: expected a mapping, got a list/,
  },
  { name: 'steps: empty (null)', files: { [PIPELINE]: 'name: tiny\nsteps:\n' }, expect: /pipeline\.yaml:2:1: steps: expected a mapping, got an empty value/ },
  {
    name: 'name: a number for a string',
    files: { [PIPELINE]: pipeline('  first: {component: hello}\n', 'name: 7\n') },
    expect: /pipeline\.yaml:1:1: name: expected a string, got a number \(7\)/,
  },
  {
    name: 'after: a string for a list',
    files: { [PIPELINE]: pipeline('  first: {component: hello}\n  second: {component: world, after: first}\n') },
    expect: /steps\.second\.after: expected a list, got a string \("first"\)/,
  },
  {
    name: 'gpu: a string for a number',
    files: { [PIPELINE]: pipeline('  first: {component: hello, resources: {gpu: two}}\n') },
    expect: /resources\.gpu: expected a number, got a string \("two"\)/,
  },
  {
    name: 'gpu: a fraction for a whole number',
    files: { [PIPELINE]: pipeline('  first: {component: hello, resources: {gpu: 1.5}}\n') },
    expect: /resources\.gpu: expected a whole number, got a number \(1\.5\)/,
  },
  {
    name: 'parameter default: a list for a value',
    files: { [PIPELINE]: pipeline('  first: {component: hello}\n', 'name: tiny\nparameters:\n  who: {default: [a]}\n') },
    expect: /parameters\.who\.default: expected a string, a number or true\/false, got a list/,
  },
  {
    name: 'step argument: a list',
    files: { [PIPELINE]: pipeline('  first: {component: hello, args: {who: [a, b]}}\n') },
    expect: /steps\.first\.args\.who: expected a value, \{param: NAME\} or \{from: STEP, output: NAME\}, got a list/,
  },
  {
    name: 'step argument: a mapping of neither form',
    files: { [PIPELINE]: pipeline('  first: {component: hello, args: {who: {parm: who}}}\n') },
    expect: /steps\.first\.args\.who: is not valid here \(expected a value, \{param: NAME\} or \{from: STEP, output: NAME\}\)/,
  },
  {
    name: 'build.dockerfile: an empty string',
    files: { [HELLO]: hello(`${CONTAINER}build: {image: hello, dockerfile: ""}\n`) },
    expect: /:5:\d+: build\.dockerfile: must not be empty/,
  },
  {
    name: 'a step name that is not a name',
    files: { [PIPELINE]: pipeline('  First: {component: hello}\n') },
    expect: /pipeline\.yaml:\d+:3: steps\.First: is not a valid name here: must be lowercase letters, digits and dashes/,
  },
  {
    name: 'a parameter name that is not a name',
    files: { [PIPELINE]: pipeline('  first: {component: hello}\n', 'name: tiny\nparameters:\n  who-else: {type: String}\n') },
    expect: /parameters\.who-else: is not a valid name here: must be letters, digits and underscores/,
  },
  {
    name: 'steps.first.component missing',
    files: { [PIPELINE]: pipeline('  first: {after: []}\n') },
    expect: /steps\.first\.component: required key is missing \(expected a string\)/,
  },
  // pipeline.yaml
  { name: 'step naming an unknown component', files: { [PIPELINE]: pipeline('  first: {component: nope}\n') }, expect: /steps\.first\.component: .*nope/ },
  {
    name: 'argument for an undeclared input',
    files: { [PIPELINE]: pipeline('  first: {component: hello, args: {whom: x}}\n') },
    expect: /steps\.first\.args\.whom/,
  },
  { name: 'unknown pipeline parameter', files: { [PIPELINE]: pipeline('  first: {component: hello, args: {who: {param: nope}}}\n') }, expect: /nope/ },
  { name: 'after: an unknown step', files: { [PIPELINE]: pipeline('  first: {component: hello, after: [zero]}\n') }, expect: /steps\.first\.after.*zero/ },
  { name: 'a cycle', files: { [PIPELINE]: pipeline('  a: {component: hello, after: [b]}\n  b: {component: world, after: [a]}\n') }, expect: /cycle/ },
  { name: 'unknown key in a step', files: { [PIPELINE]: pipeline('  first: {component: hello, afterwards: []}\n') }, expect: /unknown key "afterwards"/ },
  { name: 'bad resource quantity', files: { [PIPELINE]: pipeline('  first: {component: hello, resources: {memory: lots}}\n') }, expect: /resources\.memory/ },
  {
    name: 'Integer parameter default "abc"',
    files: { [PIPELINE]: pipeline('  first: {component: hello}\n', 'name: tiny\nparameters:\n  n: {type: Integer, default: abc}\n') },
    expect: /parameters\.n\.default: .*not an integer/,
  },
  { name: 'output of an unknown step', files: { [PIPELINE]: pipeline('  first: {component: hello, args: {who: {from: zero, output: o}}}\n') }, expect: /zero/ },
  {
    name: 'pipeline.yaml not UTF-8',
    files: { [PIPELINE]: Buffer.concat([Buffer.from('name: tiny\nsteps: {}\n# '), Buffer.from([0xc3, 0x28])]) },
    expect: /pipeline\.yaml:3:1: is not UTF-8 text/,
  },
  { name: 'pipeline.yaml syntax error', files: { [PIPELINE]: 'name: tiny\nsteps: {first: [\n' }, expect: /pipeline\.yaml:\d+:\d+: / },
  { name: 'pipeline without steps', files: { [PIPELINE]: 'name: tiny\n' }, expect: /steps: required key is missing/ },
  // flags and arguments
  { name: '--tag that is not a tag', args: ['all', '--tag', 'bad tag!'], expect: /--tag "bad tag!": a tag is/ },
  { name: '--push with a scheme', args: ['all', '--push', 'http://registry/x'], expect: /--push takes a registry/ },
  { name: '--push with capitals', args: ['all', '--push', 'Registry.example.com/X'], expect: /--push takes a registry/ },
  { name: '--build-arg without =', args: ['all', '--build-arg', 'NOEQUALS'], expect: /--build-arg "NOEQUALS" is not KEY=VALUE/ },
  { name: '--build-arg for an unknown component', args: ['all', '--build-arg', 'zzz:K=V'], expect: /--build-arg names unknown component\(s\): zzz/ },
  { name: '--concurrency 0', args: ['all', '--concurrency', '0'], expect: /--concurrency takes a positive whole number/ },
  { name: '--concurrency abc', args: ['all', '--concurrency', 'abc'], expect: /--concurrency takes a positive whole number/ },
  { name: '--builder of another name', args: ['all', '--builder', 'kaniko'], expect: /Allowed choices are classic, buildkit/ },
  { name: 'build of an unknown component', args: ['build', 'nope'], expect: /unknown component\(s\): nope/ },
  { name: 'an unknown option', args: ['all', '--pussh', 'x'], expect: /unknown option '--pussh'/ },
  { name: 'an unknown command', args: ['bulid'], expect: /unknown command 'bulid'/ },
  { name: 'run --param without =', args: ['run', '--param', 'who'], expect: /--param "who" is not NAME=VALUE/ },
  { name: 'run --param of an unknown parameter', args: ['run', '--param', 'whom=x'], expect: /whom/ },
  { name: 'run --skip-step of an unknown step', args: ['run', '--skip-step', 'third'], expect: /third/ },
  { name: 'new with a name that is no folder name', args: ['new', 'Foo Bar'], expect: /Foo Bar/ },
  // flags and arguments: an empty value (an unset variable in CI) is refused before anything happens
  {
    name: 'all --push ""',
    args: ['all', '--push', ''],
    expect: /--push: empty value; give a registry and path, e\.g\. --push harbor\.corp\/ml \(is the variable you passed unset\?\)/,
  },
  { name: 'all --push=', args: ['all', '--push='], expect: /--push: empty value; give a registry and path/ },
  { name: 'all --push "  " (whitespace)', args: ['all', '--push', '  '], expect: /--push: value is only whitespace \(" {2}"\); give a registry and path/ },
  { name: 'all --push=<tab>', args: ['all', '--push=\t'], expect: /--push: value is only whitespace/ },
  { name: 'build --tag ""', args: ['build', 'hello', '--tag', ''], expect: /--tag: empty value; give an image tag, e\.g\. --tag v1/ },
  { name: 'all --tag v1 --tag=', args: ['all', '--tag', 'v1', '--tag='], expect: /--tag: empty value/ },
  { name: 'all --build-arg ""', args: ['all', '--build-arg', ''], expect: /--build-arg: empty value; give KEY=VALUE or COMPONENT:KEY=VALUE/ },
  { name: 'all --out "" (would write dist/ anyway)', args: ['all', '--out', ''], expect: /--out: empty value; give a folder, e\.g\. --out dist/ },
  { name: 'all --out=" "', args: ['all', '--out= '], expect: /--out: value is only whitespace/ },
  { name: 'all --concurrency ""', args: ['all', '--concurrency', ''], expect: /--concurrency: empty value; give a positive whole number/ },
  { name: 'all --builder=', args: ['all', '--builder='], expect: /--builder: empty value; give classic or buildkit/ },
  { name: 'all --build-network ""', args: ['all', '--build-network', ''], expect: /--build-network: empty value; give a network mode/ },
  {
    name: 'all --username "" --password-stdin',
    args: ['all', '--push', '127.0.0.1:1/x', '--username', '', '--password-stdin'],
    expect: /--username: empty value; give the registry user/,
  },
  { name: 'plan --push ""', args: ['plan', '--push', ''], expect: /--push: empty value/ },
  { name: 'emit --push "" (a flag it requires)', args: ['emit', '--push', ''], expect: /--push: empty value/ },
  { name: 'doctor --push=', args: ['doctor', '--push='], expect: /--push: empty value/ },
  { name: 'run --param ""', args: ['run', '--param', ''], expect: /--param: empty value; give NAME=VALUE, e\.g\. --param epochs=10/ },
  { name: 'run --skip-step=', args: ['run', '--skip-step='], expect: /--skip-step: empty value; give a step name/ },
  { name: 'run --network " "', args: ['run', '--network', ' '], expect: /--network: value is only whitespace/ },
  { name: 'run --parallel ""', args: ['run', '--parallel', ''], expect: /--parallel: empty value; give a positive whole number/ },
  { name: 'run --push ""', args: ['run', '--push', ''], expect: /--push: empty value/ },
  { name: 'new --from ""', args: ['new', 'fresh', '--from', ''], expect: /--from: empty value; give the name of a component/ },
  { name: 'new --dockerfile=', args: ['new', 'fresh', '--dockerfile='], expect: /--dockerfile: empty value; give a path relative to the project root/ },
  { name: '-C ""', args: ['-C', '', 'all'], expect: /--cwd: empty value; give a project folder/ },
  { name: 'build ""', args: ['build', ''], expect: /argument <component>: empty value; give a folder name under components\// },
  { name: 'build hello " "', args: ['build', 'hello', ' '], expect: /argument <component>: value is only whitespace/ },
  { name: 'new ""', args: ['new', ''], expect: /argument <name>: empty value/ },
  {
    name: '--out followed by another flag (an unquoted unset variable)',
    args: ['all', '--out', '--json'],
    expect: /--out: got "--json" as its value, which is a flag of this command/,
  },
  { name: '--push followed by another flag', args: ['all', '--push', '--tag', 'v1'], expect: /--push: got "--tag" as its value, which is a flag/ },
  // environment
  {
    name: 'HELMET_REGISTRY_RETRIES that is no number',
    env: { HELMET_REGISTRY_RETRIES: 'three' },
    expect: /HELMET_REGISTRY_RETRIES="three": not a number of retries/,
  },
  { name: 'HELMET_REGISTRY_RETRIES set but empty', env: { HELMET_REGISTRY_RETRIES: '' }, expect: /HELMET_REGISTRY_RETRIES="": not a number of retries/ },
  { name: 'HELMET_ENGINE_RETRIES negative', env: { HELMET_ENGINE_RETRIES: '-1' }, expect: /HELMET_ENGINE_RETRIES="-1": not a number of retries/ },
  // the project as a whole
  {
    name: 'an empty components/ folder',
    prepare: (root) => rmSync(join(root, 'components'), { recursive: true }) || mkdirSync(join(root, 'components')),
    expect: /no components in/,
  },
  { name: 'no components/ folder at all', prepare: (root) => rmSync(join(root, 'components'), { recursive: true }), expect: /components/ },
];

/** Ten aliases, each expanding the one before ten times: 10^10 nodes if expanded. */
function aliasBomb(): string {
  let s = `a0: &a0 [${Array(10).fill('x').join(',')}]\n`;
  for (let i = 1; i < 10; i++)
    s += `a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(',')}]\n`;
  return s;
}

describe('bad input, table-driven: exit 2, a message that says what is wrong, dist/ untouched, nothing contacted', () => {
  const wires = useTripwires();

  it('has at least 40 cases', () => expect(CASES.length).toBeGreaterThanOrEqual(40));

  it.each(CASES)('$name', async (c) => {
    const p = tinyPipelineProject(TINY_PIPELINE, { 'dist/build.json': '{"earlier": true}\n' });
    try {
      for (const [path, content] of Object.entries(c.files ?? {})) writeFileSync(join(p.root, path), content);
      c.prepare?.(p.root);
      const before = snapshotTree(join(p.root, 'dist'));
      const args = c.args ?? ['all', '--push', `127.0.0.1:${wires.registryPort()}/team`];
      const r = await withEnv(c.env ?? {}, () => runCli(args, p.root));
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(c.expect);
      expect(snapshotTree(join(p.root, 'dist'))).toEqual(before);
      expect(wires.connections()).toBe(0);
    } finally {
      p.cleanup();
    }
  });
});
