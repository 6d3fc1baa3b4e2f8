import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach } from 'vitest';

export type FileTree = Record<string, string | { content: string; mode: number }>;

/** A throwaway project folder made from an object literal: { 'components/a/component.yaml': '...' }. */
export function makeProject(files: FileTree): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'helmet-test-'));
  writeTree(root, files);
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** `project(files)` for the tests of a file: a throwaway project each call, removed after each test. */
export function useProjects(): (files: FileTree) => string {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  return (files) => {
    const p = makeProject(files);
    cleanups.push(p.cleanup);
    return p.root;
  };
}

export function writeTree(root: string, files: FileTree): void {
  for (const [path, spec] of Object.entries(files)) {
    const abs = join(root, path);
    mkdirSync(dirname(abs), { recursive: true });
    const { content, mode } = typeof spec === 'string' ? { content: spec, mode: 0o644 } : spec;
    writeFileSync(abs, content);
    chmodSync(abs, mode);
  }
}

/** A busybox component: prints `message` when run. */
export function tinyComponent(name: string, image: string, message: string, dockerfile = 'dockerfiles/tiny.Dockerfile'): FileTree {
  return {
    [`components/${name}/component.yaml`]: [
      `name: ${name} step`,
      `description: prints a greeting`,
      `inputs:`,
      `  - {name: who, type: String, default: world}`,
      `implementation:`,
      `  container:`,
      `    command: [/bin/sh, /app/main.sh]`,
      `    args: [--who, {inputValue: who}]`,
      `build:`,
      `  image: ${image}`,
      `  dockerfile: ${dockerfile}`,
      '',
    ].join('\n'),
    [`components/${name}/main.sh`]: `echo "${message}"\n`,
  };
}

export const TINY_DOCKERFILE = {
  'dockerfiles/tiny.Dockerfile': 'ARG BASE_IMAGE=helmet/busybox:latest\nFROM ${BASE_IMAGE}\nCOPY . /app\nCMD ["/bin/sh", "/app/main.sh"]\n',
};

/** The steps of the tiny pipelines: hello (given the parameter `who`), then world. */
export const TINY_STEPS = `steps:
  first:
    component: hello
    args: {who: {param: who}}
  second:
    component: world
    after: [first]
`;

/** pipeline.yaml for two tinyComponent()s, hello then world, with a parameter and a volume. */
export const TINY_PIPELINE = `name: tiny
parameters:
  who: {type: String, default: me}
volume: {name: data, size: 1Gi, mountPath: /data}
${TINY_STEPS}`;

/** hello and world tinyComponent()s wired by `pipelineYaml` (default TINY_PIPELINE), plus `extra` files. */
export function tinyPipelineProject(pipelineYaml = TINY_PIPELINE, extra: FileTree = {}): { root: string; cleanup: () => void } {
  return makeProject({
    ...TINY_DOCKERFILE,
    ...tinyComponent('hello', 'hello', 'hi'),
    ...tinyComponent('world', 'world', 'hi'),
    'pipeline.yaml': pipelineYaml,
    ...extra,
  });
}

type Main = typeof import('../../src/cli/main.js').main;

/**
 * The CLI the tests drive: the sources, or with HELMET_TEST_BUNDLE=1 (as `make test` sets it, after
 * `npm run build`) the bundle in lib/bundle/ that bin/helmet-build.js runs, so the suite checks what
 * users run.
 */
async function cliModule(): Promise<{ main: Main }> {
  if (process.env.HELMET_TEST_BUNDLE === '1') {
    const bundle = join(import.meta.dirname, '..', '..', 'lib', 'bundle', 'main.js');
    return (await import(bundle)) as { main: Main };
  }
  return import('../../src/cli/main.js');
}

/** Run the CLI in-process and capture what it prints. */
export async function runCli(args: string[], cwd: string, stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    out: { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream,
    err: { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream,
    in: Readable.from([Buffer.from(stdin)]),
  };
  const { main } = await cliModule();
  const code = await main(['node', 'helmet-build', '-C', cwd, ...args], io);
  return { code, stdout, stderr };
}

/** Every file under a folder with its content, for "nothing changed" assertions. */
export function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(root.length + 1)] = readFileSync(p, 'utf8');
    }
  };
  walk(root);
  return out;
}

/** A producer that writes a Dataset and a small value, and a consumer that reads both. */
export const FILES_PROJECT: FileTree = {
  ...TINY_DOCKERFILE,
  'components/producer/component.yaml': [
    'name: producer',
    'outputs:',
    '  - {name: data, type: Dataset}',
    '  - {name: row count, type: Integer}',
    'implementation:',
    '  container:',
    '    command: [sh, -c, \'printf "a,b\\n1,2\\n" > "$0" && echo 1 > "$1"\', {outputPath: data}, {outputPath: row count}]',
    'build: {image: producer, dockerfile: dockerfiles/tiny.Dockerfile}',
    '',
  ].join('\n'),
  'components/consumer/component.yaml': [
    'name: consumer',
    'inputs:',
    '  - {name: table, type: Dataset}',
    '  - {name: rows, type: Integer}',
    'outputs:',
    '  - {name: summary}',
    'implementation:',
    '  container:',
    '    command: [sh, -c, \'cat "$0" && echo "rows=$1" && cat "$0" > "$2"\', {inputPath: table}, {inputValue: rows}, {outputPath: summary}]',
    'build: {image: consumer, dockerfile: dockerfiles/tiny.Dockerfile}',
    '',
  ].join('\n'),
  'pipeline.yaml': [
    'name: files',
    'steps:',
    '  make: {component: producer}',
    '  use:',
    '    component: consumer',
    '    args: {table: {from: make, output: data}, rows: {from: make, output: row count}}',
    '',
  ].join('\n'),
};

/** Run `work` with these environment variables set (an undefined value unsets one); every variable is restored after. */
export async function withEnv<T>(env: Record<string, string | undefined>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(env);
  try {
    return await work();
  } finally {
    apply(saved);
  }
}

/** The events of a `--json` run, one object per line. */
export function ndjson(stdout: string): Record<string, any>[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
