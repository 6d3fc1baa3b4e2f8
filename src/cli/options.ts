/**
 * Option declarations shared by several commands (one definition each, so `--push` means the same
 * everywhere), and the parsers of repeatable KEY=VALUE flags.
 */
import { Option } from 'commander';
import { UsageError } from '../errors.js';

/** Collect a repeatable option into an array (commander helper). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parsePositiveInt(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a positive whole number, got "${value}"`);
    return n;
  };
}

export const sharedOptions = {
  push: (description = 'push to this registry/prefix, e.g. localhost:5000/helmet; specs then pin image@sha256 digests') =>
    new Option('--push <repo>', description),
  tag: () =>
    new Option(
      '--tag <tag>',
      'user tag for every image (repeatable); moved only when every component succeeded. The content tag in-<input digest> is always set',
    ).argParser(collect),
  buildArg: (description = 'KEY=VALUE for all components or COMPONENT:KEY=VALUE for one (repeatable)') =>
    new Option('--build-arg <arg>', description).argParser(collect),
  concurrency: () =>
    new Option('--concurrency <n>', 'builds at once, and pushes at once (default: number of CPUs)').argParser(parsePositiveInt('--concurrency')),
  noCache: () => new Option('--no-cache', 'build even when an image with the same input digest exists'),
  out: () => new Option('--out <dir>', 'output folder for specs and build.json').default('dist'),
  json: (description = 'print events and the result as NDJSON on stdout') => new Option('--json', description),
  verbose: () => new Option('-v, --verbose', 'show build output and push progress'),
  builder: () =>
    new Option('--builder <builder>', 'classic or buildkit (default: BuildKit where the engine has it)').choices(['classic', 'buildkit']).env('HELMET_BUILDER'),
  username: () => new Option('--username <name>', 'registry user for --password-stdin (default: HELMET_REGISTRY_USER)'),
  passwordStdin: () => new Option('--password-stdin', 'read the registry password or token from standard input (never from a flag)'),
  buildNetwork: () =>
    new Option('--build-network <mode>', "network of RUN steps, e.g. host or none (default: the engine's; host on an engine without a bridge network)"),
};

/**
 * `--build-arg KEY=V` applies to every component; `--build-arg train:KEY=V` to one.
 * A key is an identifier, so the first `:` before `=` marks a component name.
 */
export function parseBuildArgs(values: string[]): {
  global: Record<string, string>;
  perComponent: Record<string, Record<string, string>>;
} {
  const global: Record<string, string> = {};
  const perComponent: Record<string, Record<string, string>> = {};
  for (const raw of values) {
    const m = /^(?:([a-z0-9][a-z0-9._-]*):)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(raw);
    if (!m) {
      throw new UsageError(`--build-arg "${raw}" is not KEY=VALUE or COMPONENT:KEY=VALUE`, {
        hint: 'Example: --build-arg BASE_IMAGE=python:3.11-slim --build-arg train:TORCH_CUDA=cu121',
      });
    }
    const [, component, key, value] = m as unknown as [string, string | undefined, string, string];
    if (component) perComponent[component] = { ...perComponent[component], [key]: value };
    else global[key] = value;
  }
  return { global, perComponent };
}

/** `--param NAME=VALUE` flags as a map. */
export function parseParams(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of values) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param "${raw}" is not NAME=VALUE`, { hint: 'Example: --param epochs=10' });
    out[raw.slice(0, eq)] = raw.slice(eq + 1);
  }
  return out;
}
