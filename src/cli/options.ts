/**
 * Option declarations shared by several commands (one definition each, so `--push` means the same
 * everywhere), and the parsers of repeatable KEY=VALUE flags.
 */

import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argument, Command } from 'commander';
import { Option } from 'commander';
import type { BuildSecret, SshAgent } from '../engine/engine-client.js';
import type { ContextTransfer } from '../engine/engine-setup.js';
import { UsageError } from '../errors.js';
import { PLATFORM } from '../names/platform.js';

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
  tag: (description = 'user tag for every image (repeatable); moved only when every component succeeded. The content tag in-<input digest> is always set') =>
    new Option('--tag <tag>', description).argParser(collect),
  buildArg: (description = 'KEY=VALUE for all components or COMPONENT:KEY=VALUE for one (repeatable)') =>
    new Option('--build-arg <arg>', description).argParser(collect),
  concurrency: () =>
    new Option('--concurrency <n>', 'builds at once, and pushes at once (default: number of CPUs)').argParser(parsePositiveInt('--concurrency')),
  noCache: (description = 'build even when an image with the same input digest exists') => new Option('--no-cache', description),
  out: () => new Option('--out <dir>', 'output folder for specs and build.json').default('dist'),
  json: (description = 'print events and the result as NDJSON on stdout') => new Option('--json', description),
  verbose: () => new Option('-v, --verbose', 'show build output and push progress'),
  builder: () =>
    new Option('--builder <builder>', 'classic or buildkit (default: BuildKit where the engine has it)').choices(['classic', 'buildkit']).env('HELMET_BUILDER'),
  username: () => new Option('--username <name>', 'registry user for --password-stdin (default: HELMET_REGISTRY_USER)'),
  passwordStdin: () => new Option('--password-stdin', 'read the registry password or token from standard input (never from a flag)'),
  secret: () =>
    new Option(
      '--secret <spec>',
      'a build secret for RUN --mount=type=secret: id=ID[,env=VAR|,src=FILE] (default: the variable named ID); repeatable; never in images, dist/ or logs',
    ).argParser(collect),
  ssh: () =>
    new Option('--ssh <spec>', 'an SSH agent for RUN --mount=type=ssh: ID[=SOCKET] (default: id default, $SSH_AUTH_SOCK); repeatable').argParser(collect),
  platform: () =>
    new Option(
      '--platform <list>',
      "platforms to build for, comma-separated, e.g. linux/amd64,linux/arm64; more than one needs --push and is pinned as one image index (default: each image's platforms, else the engine's own)",
    ).argParser(parsePlatforms),
  signKey: () =>
    new Option(
      '--sign-key <path>',
      "sign every built image the run pins, as cosign does (cosign generate-key-pair's key, or a PEM PKCS#8 ECDSA P-256 / Ed25519 key; password from COSIGN_PASSWORD)",
    ),
  buildNetwork: () =>
    new Option('--build-network <mode>', "network of RUN steps, e.g. host or none (default: the engine's; host on an engine without a bridge network)"),
};

/**
 * What to give each flag that takes a value, said when the value is empty or another flag. Every
 * such flag of every command has an entry (a unit test checks).
 */
export const VALUE_EXAMPLES: Record<string, string> = {
  '--cwd': 'give a project folder, e.g. -C path/to/project',
  '--push': 'give a registry and path, e.g. --push harbor.corp/ml',
  '--tag': 'give an image tag, e.g. --tag v1',
  '--build-arg': 'give KEY=VALUE or COMPONENT:KEY=VALUE, e.g. --build-arg BASE_IMAGE=python:3.11-slim',
  '--concurrency': 'give a positive whole number, e.g. --concurrency 4, or leave the flag out for one per CPU',
  '--out': 'give a folder, e.g. --out dist, or leave the flag out for dist',
  '--builder': 'give classic or buildkit, or leave the flag out',
  '--platform': 'give platforms os/arch, comma-separated, e.g. --platform linux/amd64,linux/arm64',
  '--sign-key': 'give a private key file, e.g. --sign-key cosign.key',
  '--key': 'give a public key file, e.g. --key cosign.pub',
  '--build-network': 'give a network mode, e.g. --build-network host, or leave the flag out',
  '--username': 'give the registry user, e.g. --username ci',
  '--secret': 'give id=ID[,env=VAR|,src=FILE], e.g. --secret id=pip,env=PIP_TOKEN',
  '--ssh': 'give ID[=SOCKET], e.g. --ssh default',
  '--param': 'give NAME=VALUE, e.g. --param epochs=10',
  '--skip-step': 'give a step name of pipeline.yaml, e.g. --skip-step train',
  '--network': 'give a network mode, e.g. --network host, or leave the flag out for host',
  '--parallel': 'give a positive whole number, e.g. --parallel 2',
  '--from': 'give the name of a component with a build: section, e.g. --from base',
  '--dockerfile': 'give a path relative to the project root, e.g. --dockerfile dockerfiles/base.Dockerfile',
  '--host': 'give the URL of the KFP API server or UI, e.g. --host https://kubeflow.example.com/pipeline, or leave the flag out for KF_PIPELINES_ENDPOINT',
  '--experiment': 'give an experiment name, e.g. --experiment ci, or leave the flag out for Default',
  '--run-name': 'give a run name, e.g. --run-name "nightly 42", or leave the flag out for "<pipeline> <UTC time>"',
  '--version': 'give a pipeline version name, e.g. --version v1.2, or leave the flag out to name it from the content',
  '--namespace': 'give a Kubernetes namespace, e.g. --namespace kubeflow-user-example-com',
  '--api': 'give v1 or v2, or leave the flag out to ask the server',
  '--timeout': 'give a positive whole number of seconds, e.g. --timeout 3600',
};

/** What to give a positional argument, in the same words. */
export const ARGUMENT_EXAMPLES: Record<string, string> = {
  component: 'give a folder name under components/, e.g. train',
  name: 'give a folder name of lowercase letters, digits and dashes, e.g. score-model',
};

const UNSET = '(is the variable you passed unset?)';

/** Why `value` cannot be the value of a flag or argument, if it cannot. */
function refusal(value: string, flags: readonly string[]): string | undefined {
  if (value.trim() === '') return value === '' ? 'empty value' : `value is only whitespace ("${value}")`;
  // `--out $DIR --json` with DIR unset makes "--json" the value of --out.
  if (flags.includes(value.split('=')[0]!)) return `got "${value}" as its value, which is a flag of this command`;
  return undefined;
}

/**
 * Refuse, on every command, an empty or whitespace-only value for any flag or argument, and a value
 * that is one of the command's own flags: in CI these come from an unset variable
 * (`--push "$REGISTRY"`), and taken as given they would quietly do something else (build and not
 * push, write dist/ into the current folder). Wraps each parser, so the check runs as commander
 * reads the value (the `--flag value` and `--flag=value` forms and environment variables alike),
 * before any command starts. Call once on the finished program.
 */
export function refuseBlankValues(program: Command): void {
  const visit = (cmd: Command, inherited: Option[]) => {
    const options = [...inherited, ...cmd.options];
    const flags = options.flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined);
    flags.push('--help', '-h');
    for (const option of cmd.options) {
      if (option.required || option.optional) guardOption(cmd, option, flags);
    }
    for (const argument of cmd.registeredArguments) guardArgument(argument, flags);
    for (const sub of cmd.commands) visit(sub, options);
  };
  visit(program, []);
}

function guardOption(cmd: Command, option: Option, flags: readonly string[]): void {
  const flag = option.long ?? option.short!;
  const parse = option.parseArg;
  let fromEnv = false;
  // Commander reads an environment variable after the command line, and only for flags not given.
  if (option.envVar) (cmd as unknown as NodeJS.EventEmitter).prependListener(`optionEnv:${option.name()}`, () => (fromEnv = true));
  option.parseArg = <T>(value: string, previous: T): T => {
    if (fromEnv) {
      if (value.trim() === '') throw new UsageError(`${option.envVar} (the default of ${flag}) is set but empty; set a value ${flag} takes, or unset it`);
      return (parse ? parse(value, previous) : value) as T;
    }
    const why = refusal(value, flags);
    if (why) throw new UsageError(`${flag}: ${why}; ${VALUE_EXAMPLES[option.long ?? ''] ?? 'give a value'} ${UNSET}`);
    return (parse ? parse(value, previous) : value) as T;
  };
}

function guardArgument(argument: Argument, flags: readonly string[]): void {
  const parse = argument.parseArg;
  argument.parseArg = <T>(value: string, previous: T): T => {
    const why = refusal(value, flags);
    if (why) {
      const what = ARGUMENT_EXAMPLES[argument.name()] ?? 'give a value';
      throw new UsageError(`argument <${argument.name()}>: ${why}; ${what} ${UNSET}`);
    }
    if (parse) return parse(value, previous);
    // Without a parser of its own, a variadic argument collects its values.
    return (argument.variadic ? [...((previous as string[] | undefined) ?? []), value] : value) as T;
  };
}

/**
 * `--build-arg KEY=V` applies to every component; `--build-arg train:KEY=V` to one.
 * A key is an identifier, so the first `:` before `=` marks a component name.
 */
/** What the build flags say a build is given: build args (global and per component), secrets and SSH agents. */
/** `--platform a,b`: each an os/arch[/variant], none twice. */
function parsePlatforms(value: string): string[] {
  const platforms = value.split(',').map((p) => p.trim());
  for (const p of platforms) {
    if (!PLATFORM.test(p))
      throw new UsageError(`--platform: "${p}" is not a platform os/arch[/variant]`, { hint: 'Example: --platform linux/amd64,linux/arm64' });
  }
  if (new Set(platforms).size !== platforms.length) throw new UsageError(`--platform ${value} names a platform twice`);
  return platforms;
}

export function buildInputsFromFlags(flags: { buildArg?: string[]; secret?: string[]; ssh?: string[]; platform?: string[]; cwd: string }): {
  buildArgs: Record<string, string>;
  platforms?: string[];
  componentBuildArgs: Record<string, Record<string, string>>;
  secrets?: BuildSecret[];
  ssh?: SshAgent[];
} {
  const args = parseBuildArgs(flags.buildArg ?? []);
  return {
    buildArgs: args.global,
    componentBuildArgs: args.perComponent,
    ...(flags.platform ? { platforms: flags.platform } : {}),
    ...(flags.secret?.length ? { secrets: parseSecrets(flags.secret, flags.cwd) } : {}),
    ...(flags.ssh?.length ? { ssh: parseSsh(flags.ssh, flags.cwd) } : {}),
  };
}

function parseBuildArgs(values: string[]): {
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

const SECRET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `--secret id=ID[,env=VAR|,src=FILE]`, as docker build takes it (`source=` and `type=env|file` too);
 * without env or src, the environment variable named ID. A variable that is not set or a file that
 * does not exist is bad input (exit 2), said by id and by where it was looked for; the value is
 * never read here.
 */
export function parseSecrets(values: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): BuildSecret[] {
  const secrets = new Map<string, BuildSecret>();
  for (const raw of values) {
    const fields = new Map<string, string>();
    for (const part of raw.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new UsageError(`--secret "${raw}": "${part}" is not KEY=VALUE`, { hint: 'Example: --secret id=pip,env=PIP_TOKEN' });
      fields.set(part.slice(0, eq).trim(), part.slice(eq + 1));
    }
    const id = fields.get('id');
    if (!id || !SECRET_ID.test(id))
      throw new UsageError(`--secret "${raw}" needs id=ID (letters, digits, ".", "_", "-")`, { hint: 'Example: --secret id=pip,env=PIP_TOKEN' });
    const unknown = [...fields.keys()].filter((k) => !['id', 'env', 'src', 'source', 'type'].includes(k));
    if (unknown.length) throw new UsageError(`--secret id=${id}: unknown field ${unknown.join(', ')} (id, env, src, type)`);
    const type = fields.get('type');
    const src = fields.get('src') ?? fields.get('source');
    if (type && type !== 'env' && type !== 'file') throw new UsageError(`--secret id=${id}: type is env or file, not ${type}`);
    if (fields.has('env') && src !== undefined) throw new UsageError(`--secret id=${id}: give env= or src=, not both`);
    let secret: BuildSecret;
    if (src !== undefined && type !== 'env') {
      const file = resolve(cwd, src);
      if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`--secret id=${id}: src file ${file} does not exist`);
      secret = { id, file };
    } else {
      const variable = fields.get('env') ?? src ?? id;
      if (env[variable] === undefined) {
        throw new UsageError(`--secret id=${id}: environment variable ${variable} is not set`, {
          hint: `Set ${variable}, or name another variable (env=VAR) or a file (src=FILE).`,
        });
      }
      secret = { id, env: variable };
    }
    if (secrets.has(id)) throw new UsageError(`--secret id=${id} is given twice`);
    secrets.set(id, secret);
  }
  return [...secrets.values()];
}

/** `--ssh ID[=SOCKET]`: the id `default` and $SSH_AUTH_SOCK unless said otherwise; the socket must exist (exit 2). */
export function parseSsh(values: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SshAgent[] {
  const agents = new Map<string, SshAgent>();
  for (const raw of values) {
    const eq = raw.indexOf('=');
    const id = eq < 0 ? raw : raw.slice(0, eq);
    if (!SECRET_ID.test(id)) throw new UsageError(`--ssh "${raw}": the id is letters, digits, ".", "_" and "-"`, { hint: 'Example: --ssh default' });
    const given = eq < 0 ? env.SSH_AUTH_SOCK : raw.slice(eq + 1);
    if (!given) {
      throw new UsageError(`--ssh ${id}: no agent socket (SSH_AUTH_SOCK is not set)`, { hint: 'Start ssh-agent and ssh-add a key, or give --ssh ID=SOCKET.' });
    }
    const socket = resolve(cwd, given);
    if (!existsSync(socket) || !statSync(socket).isSocket()) throw new UsageError(`--ssh ${id}: ${socket} is not an agent socket`);
    if (agents.has(id)) throw new UsageError(`--ssh ${id} is given twice`);
    agents.set(id, { id, socket });
  }
  return [...agents.values()];
}

/** A tag as registries take it: 1-128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** `--tag` values a registry would refuse, refused before anything runs. */
export function checkTags(tags: string[]): void {
  const bad = tags.filter((t) => !TAG.test(t));
  if (bad.length)
    throw new UsageError(`--tag ${bad.map((t) => JSON.stringify(t)).join(', ')}: a tag is 1-128 letters, digits, _, . and -, not starting with . or -`);
}

/** HELMET_CONTEXT_TRANSFER: how BuildKit builds get their context, `filesync` (the default) or `tar`; read once, refused before anything runs. */
export function contextTransferFromEnv(env: NodeJS.ProcessEnv = process.env): ContextTransfer {
  const value = env.HELMET_CONTEXT_TRANSFER?.trim() || 'filesync';
  if (value === 'filesync' || value === 'tar') return value;
  throw new UsageError(`HELMET_CONTEXT_TRANSFER must be filesync or tar, not "${value}"`, {
    hint: 'filesync sends the context through the build session (the default); tar uploads it as the request body.',
  });
}
