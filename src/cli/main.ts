import { Command, CommanderError, Option } from 'commander';
import { ExitCode, isHelmetError } from '../errors.js';
import { PLAN_FORMAT_VERSION } from '../model/plan-entry.js';
import { packageVersion } from '../version.js';
import type { Io } from './context.js';
import { collect, parsePositiveInt, refuseBlankValues, sharedOptions } from './options.js';
import { hintText } from './remedy-text.js';

const EXIT_CODES_HELP = `
Exit codes:
  0    everything succeeded
  1    a build, push or pipeline step failed (the others still finished; see dist/build.json), the registry
       refused (credentials, permissions), or an output could not be written (a full disk, a read-only folder)
  2    bad input: component.yaml, pipeline.yaml, flags or arguments (or a GPU step on an engine without GPUs)
  3    the Docker engine or the registry is unreachable (refused connection, DNS, timeout), a registry's TLS
       certificate is not trusted, or the engine cannot build the way the run asks
  130  interrupted

Environment:
  DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH   select the engine, as for the docker CLI
  HELMET_REGISTRY_USER, HELMET_REGISTRY_PASSWORD     registry credentials (else the Docker config; or --password-stdin)
  HELMET_INSECURE_REGISTRIES                         host:port,... spoken to over plain HTTP at once (else as the engine allows)
  HELMET_BUILDER                                     classic or buildkit, as --builder
  HELMET_CONTEXT_TRANSFER                            filesync (default) or tar: how BuildKit builds get their context
  HELMET_REGISTRY_RETRIES, HELMET_ENGINE_RETRIES     tries again after a transient fault (default 3)
  COSIGN_PASSWORD                                    the password of an encrypted --sign-key
  DOCKER_CONFIG                                      the Docker config folder (config.json, certs.d/)
`;

/** The options of the commands that build: `all` and `build`. */
function addBuildOptions(cmd: Command): Command {
  cmd
    .addOption(sharedOptions.push())
    .addOption(sharedOptions.tag())
    .addOption(sharedOptions.buildArg())
    .addOption(sharedOptions.secret())
    .addOption(sharedOptions.ssh())
    .addOption(sharedOptions.concurrency())
    .addOption(sharedOptions.noCache())
    .addOption(sharedOptions.builder())
    .addOption(sharedOptions.platform())
    .addOption(sharedOptions.signKey())
    .addOption(sharedOptions.buildNetwork())
    .addOption(sharedOptions.out())
    .addOption(sharedOptions.json())
    .addOption(sharedOptions.verbose());
  return addLogin(cmd);
}

/** --username / --password-stdin, on every command that talks to a registry. */
function addLogin(cmd: Command): Command {
  return cmd.addOption(sharedOptions.username()).addOption(sharedOptions.passwordStdin());
}

/**
 * The command `argv` names after helmet-build's own options, when it is one of ours; undefined for
 * anything else (none, --help, help, a typo), which gets every command: help lists them all and a
 * typo gets a suggestion.
 */
function commandNamed(argv: readonly string[] | undefined): string | undefined {
  if (!argv) return undefined;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-C' || arg === '--cwd') i++;
    else if (arg.startsWith('--cwd=') || /^-C./.test(arg)) continue;
    else return !arg.startsWith('-') && Object.hasOwn(COMMANDS, arg) ? arg : undefined;
  }
  return undefined;
}

/** The program; with `argv`, only the command it names is registered (all of them when it names none). */
export function buildProgram(io: Io, setExit: (code: number) => void, argv?: readonly string[]): Command {
  const program = new Command('helmet-build')
    .description('Build, push and pin the container images of Kubeflow Pipelines components, and emit KFP specs that reference them by digest.')
    .version(packageVersion(), '-V, --version', 'print the helmet-build version')
    .addOption(new Option('-C, --cwd <dir>', 'run as if started in <dir>').default(process.cwd(), 'current folder'))
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run helmet-build --help for usage)')
    // Options of helmet-build itself (-C, --version) go before the command, so that a command can have a --version of its own (submit).
    .enablePositionalOptions()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .exitOverride();
  const cwd = () => program.opts().cwd as string;
  const actions: Actions = {
    runs: (load) => async (flags) => setExit(await (await load())({ ...flags, cwd: cwd() }, io)),
    runsOn: (load) => async (args, flags) => setExit(await (await load())(args, { ...flags, cwd: cwd() }, io)),
  };
  const named = commandNamed(argv);
  for (const [name, register] of Object.entries(COMMANDS)) if (named === undefined || name === named) register(program, actions);
  refuseBlankValues(program);
  return program;
}

/** How a command's action runs: its module loaded on first use, `-C` applied, its exit code kept. */
interface Actions {
  /** A command that takes flags only. */
  runs<F extends object>(load: () => Promise<(flags: F & { cwd: string }, io: Io) => Promise<number>>): (flags: F) => Promise<void>;
  /** A command that takes arguments before its flags. */
  runsOn<A, F extends object>(load: () => Promise<(args: A, flags: F & { cwd: string }, io: Io) => Promise<number>>): (args: A, flags: F) => Promise<void>;
}

/**
 * Every command, by name, in the order --help lists them: each registers itself on the program. A run
 * registers only the command it names (building every command's options cost each run ~4 ms).
 */
const COMMANDS: Record<string, (program: Command, actions: Actions) => void> = {
  // The commands that build images and write specs.
  all: (program, { runsOn }) => {
    addBuildOptions(
      program
        .command('all')
        .description('build every component (bases first, the rest in parallel), push with --push, write dist/')
        .addHelpText('after', '\nExample:\n  helmet-build all --push localhost:5000/helmet --tag v1\n'),
    ).action((flags) => runsOn(async () => (await import('./commands/build.js')).runBuildCommand)([], flags));
  },
  build: (program, { runsOn }) => {
    addBuildOptions(
      program
        .command('build')
        .description('build the named components (and the components they start from)')
        .argument('<component...>', 'component folder names under components/')
        .addHelpText('after', '\nExample:\n  helmet-build build train --push localhost:5000/helmet\n'),
    ).action(runsOn(async () => (await import('./commands/build.js')).runBuildCommand));
  },
  plan: (program, { runsOn }) => {
    addLogin(
      program
        .command('plan')
        .description('say, per component, whether it is up to date or what a build would do and why; builds and writes nothing')
        .argument('[component...]', 'component folder names under components/ (default: all)')
        .addOption(sharedOptions.push('look in this registry/prefix (default: local images in the engine)'))
        .addOption(sharedOptions.tag('a user tag a build would set (repeatable): an image that lacks it is needs-tag'))
        .addOption(sharedOptions.buildArg('the build args a build would use (they are part of the input digest)'))
        .addOption(sharedOptions.noCache('plan as a --no-cache build would: every selected component needs-build'))
        .addOption(sharedOptions.platform())
        .addOption(sharedOptions.out())
        .addOption(sharedOptions.json(`print the plan as one JSON document (format version ${PLAN_FORMAT_VERSION}; see README)`)),
    )
      .addHelpText('after', '\nExample:\n  helmet-build plan --push localhost:5000/helmet --json\n')
      .action(runsOn(async () => (await import('./commands/build.js')).runPlanCommand));
  },
  emit: (program, { runs }) => {
    addLogin(
      program
        .command('emit')
        .description('write component specs and the pipeline spec from images already pushed for the current inputs; builds nothing')
        .addOption(sharedOptions.push('the registry/prefix the images were pushed to').makeOptionMandatory())
        .addOption(sharedOptions.buildArg('the build args the images were built with (they are part of the input digest)'))
        .addOption(sharedOptions.platform())
        .addOption(sharedOptions.signKey())
        .addOption(sharedOptions.out())
        .addOption(sharedOptions.json()),
    )
      .addHelpText('after', '\nExample:\n  helmet-build emit --push localhost:5000/helmet\n')
      .action(runs(async () => (await import('./commands/build.js')).runEmitCommand));
  },
  // The pipeline on the local engine, and on a KFP cluster.
  run: (program, { runs }) => {
    addLogin(
      program
        .command('run')
        .description(
          'run pipeline.yaml on the local Docker engine: build or reuse the images, then run the steps on a shared volume (independent steps at once)',
        )
        .option('--param <name=value>', 'set a pipeline parameter (repeatable)', collect)
        .option('--skip-step <step>', 'do not run this step, nor the steps after it (repeatable)', collect)
        .option('--keep-volume', 'keep the volume standing in for the PVC, to inspect the outputs')
        .option('--network <mode>', 'network of the step containers', 'host')
        .option('--parallel <n>', 'steps running at once', parsePositiveInt('--parallel'), 2)
        .option('--no-gpu', 'on an engine without GPUs, run the steps that request one on the CPU (tell them so, e.g. --param device=cpu)')
        .addOption(sharedOptions.push('use (and push) images in this registry instead of local ones'))
        .addOption(sharedOptions.buildArg('KEY=VALUE or COMPONENT:KEY=VALUE for the image builds (repeatable)'))
        .addOption(sharedOptions.secret())
        .addOption(sharedOptions.ssh())
        .addOption(sharedOptions.builder())
        .addOption(sharedOptions.buildNetwork())
        .addOption(sharedOptions.json())
        .addOption(sharedOptions.verbose()),
    )
      .addHelpText(
        'after',
        '\nExamples:\n' +
          '  helmet-build run --param dataurl=http://127.0.0.1:8000/VOC2028.tar.gz --skip-step train --keep-volume\n' +
          '  helmet-build run --no-gpu --param device=cpu --param epochs=2 --param dataurl=http://127.0.0.1:8000/VOC2028.tar.gz\n',
      )
      .action(runs(async () => (await import('./commands/run.js')).runRunCommand));
  },
  submit: (program, { runs }) => {
    program
      .command('submit')
      .description('upload dist/<pipeline>.yaml to a KFP cluster (a new pipeline, or a version named from its content) and start a run')
      .option('--host <url>', 'the KFP API server or UI, e.g. https://kubeflow.example.com/pipeline (default: KF_PIPELINES_ENDPOINT)')
      .option('--experiment <name>', 'the experiment of the run, created when missing (default: KF_PIPELINES_DEFAULT_EXPERIMENT_NAME, else Default)')
      .option('--run-name <name>', 'the name of the run (default: "<pipeline> <UTC time>")')
      .option('--param <name=value>', 'set a pipeline parameter, typed by pipeline.yaml (repeatable)', collect)
      .option('--version <name>', "the pipeline version to use or upload (default: <pipeline>-<12 hex of the spec's SHA-256>)")
      .option('--namespace <ns>', 'the namespace of the experiment and run, for multi-user KFP (default: from ~/.config/kfp/context.json)')
      .addOption(new Option('--api <api>', 'v2 (upload the v2 spec) or v1 (the v1 package, through v1beta1) (default: by healthz)').choices(['v1', 'v2']))
      .option('--wait', 'follow the run to its end: exit 0 when it succeeded, 1 when it failed, was canceled or skipped')
      .option('--timeout <seconds>', 'with --wait: stop waiting after this long (exit 1; the run goes on)', parsePositiveInt('--timeout'))
      .addOption(new Option('--out <dir>', 'the folder the specs were written to').default('dist'))
      .addOption(sharedOptions.json())
      .addHelpText(
        'after',
        '\nEnvironment: KF_PIPELINES_ENDPOINT, KF_PIPELINES_TOKEN, KF_PIPELINES_SA_TOKEN_PATH, KF_PIPELINES_COOKIE, KF_PIPELINES_UI_ENDPOINT, ~/.config/kfp/context.json\n\nExample:\n  helmet-build submit --host https://kubeflow.example.com/pipeline --experiment ci --param epochs=3 --wait\n',
      )
      .action(runs(async () => (await import('./commands/submit.js')).runSubmitCommand));
  },
  // The project itself.
  new: (program, { runsOn }) => {
    program
      .command('new')
      .description('scaffold components/<name>/: component.yaml, a Python entrypoint, a .dockerignore and a unit test; never overwrites')
      .argument('<name>', 'folder name: lowercase words joined by "-", "_" or "." (score-model, confusion_matrix)')
      .option('--from <component>', 'start from the image of this built component (passed as BASE_IMAGE)')
      .option(
        '--dockerfile [path]',
        'a Dockerfile relative to the project root (default: dockerfiles/base.Dockerfile, written when missing); alone: a Dockerfile of its own, written beside component.yaml',
      )
      .addHelpText(
        'after',
        '\nExample:\n  helmet-build new score-model && helmet-build build score-model\n  helmet-build new roc --dockerfile        # components/roc/Dockerfile beside its component.yaml\n',
      )
      .action(runsOn(async () => (await import('./commands/new.js')).runNewCommand));
  },
  init: (program, { runs }) => {
    program
      .command('init')
      .description(
        'write helmet-build.yaml for an existing repository: its component.yaml files, and the images their FROM lines name that its build scripts make; never overwrites',
      )
      .addHelpText('after', '\nExample:\n  helmet-build -C pipelines init && helmet-build -C pipelines list\n')
      .action(runs(async () => (await import('./commands/init.js')).runInitCommand));
  },
  doctor: (program, { runs }) => {
    addLogin(
      program
        .command('doctor')
        .description('check the project files, the Docker engine, and (with --push) the registry and its credentials')
        .addOption(sharedOptions.push('also check this registry/prefix and the credentials for it'))
        .addOption(sharedOptions.json('print JSON')),
    )
      .addHelpText('after', '\nExample:\n  helmet-build doctor --push localhost:5000/helmet\n')
      .action(runs(async () => (await import('./commands/doctor.js')).runDoctorCommand));
  },
  verify: (program, { runs }) => {
    addLogin(
      program
        .command('verify')
        .description('check that every image dist/build.json pins is signed by the key, with a provenance naming the current inputs')
        .option('--key <path>', "the public key (cosign.pub) (default: beside helmet-build.yaml's sign: key)")
        .addOption(sharedOptions.out())
        .addOption(sharedOptions.json('print JSON')),
    )
      .addHelpText('after', '\nExample:\n  helmet-build verify --key cosign.pub\n')
      .action(runs(async () => (await import('./commands/verify.js')).runVerifyCommand));
  },
  list: (program, { runs }) => {
    program
      .command('list')
      .description('list the components, their images and Dockerfiles')
      .addOption(sharedOptions.json('print JSON'))
      .addHelpText('after', '\nExample:\n  helmet-build list --json\n')
      .action(runs(async () => (await import('./commands/list.js')).runListCommand));
  },
};

/** The version in package.json (two folders up from this file, in src/ and in lib/ alike). */
/** Parse argv, run a command, and map every outcome to a documented exit code. */
export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram(io, (c) => (code = c), argv);
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return e.exitCode === 0 ? 0 : ExitCode.badInput;
    }
    if (isHelmetError(e)) {
      io.err.write(`helmet-build: ${e.message}\n`);
      const hint = hintText(e);
      if (hint) io.err.write(`hint: ${hint}\n`);
      return e.exitCode;
    }
    io.err.write(`helmet-build: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    io.err.write('This is a bug in helmet-build; please report it with the command you ran and the output above.\n');
    // Source maps cost start-up time on every run; the positions in src/ are one variable away.
    if (!process.execArgv.includes('--enable-source-maps') && !process.env.NODE_OPTIONS?.includes('--enable-source-maps')) {
      io.err.write('(Run it again with NODE_OPTIONS=--enable-source-maps for positions in the source.)\n');
    }
    return ExitCode.failed;
  }
}
