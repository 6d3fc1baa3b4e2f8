import { Command, CommanderError, Option } from 'commander';
import { ExitCode, isHelmetError } from '../errors.js';
import type { Io } from './context.js';
import { collect, parsePositiveInt } from './options.js';

const EXIT_CODES_HELP = `
Exit codes:
  0    everything succeeded
  1    a build, push or pipeline step failed (the others still finished; see dist/build.json)
  2    bad input: component.yaml, pipeline.yaml, flags or arguments (or a GPU step on an engine without GPUs)
  3    the Docker engine or the registry is unreachable
  130  interrupted

Environment:
  DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH   select the engine, as for the docker CLI
  HELMET_REGISTRY_USER, HELMET_REGISTRY_PASSWORD     registry credentials (else the Docker config)
  HELMET_INSECURE_REGISTRIES                         host:port,... spoken to over HTTP (loopback always is)
`;

function addBuildOptions(cmd: Command): Command {
  return cmd
    .option('--push <repo>', 'push to this registry/prefix, e.g. localhost:5000/helmet; specs then pin image@sha256 digests')
    .option('--tag <tag>', 'extra tag for every image (repeatable); the content tag in-<input digest> is always set', collect)
    .option('--build-arg <arg>', 'KEY=VALUE for all components or COMPONENT:KEY=VALUE for one (repeatable)', collect)
    .option('--concurrency <n>', 'independent components built at once (default: number of CPUs)', parsePositiveInt('--concurrency'))
    .option('--no-cache', 'build even when an image with the same input digest exists')
    .option('--out <dir>', 'output folder for specs and build.json', 'dist')
    .option('--json', 'print events and the result as NDJSON on stdout')
    .option('-v, --verbose', 'show build logs');
}

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('helmet-build')
    .description('Build, push and pin the container images of Kubeflow Pipelines components, and emit KFP specs that reference them by digest.')
    .addOption(new Option('-C, --cwd <dir>', 'run as if started in <dir>').default(process.cwd(), 'current folder'))
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run helmet-build --help for usage)')
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .exitOverride();

  addBuildOptions(
    program
      .command('all')
      .description('build every component (bases first, the rest in parallel), push with --push, write dist/')
      .addHelpText('after', '\nExample:\n  helmet-build all --push localhost:5000/helmet --tag v1\n'),
  ).action(async (flags) => {
    const { runBuildCommand } = await import('./commands/build.js');
    setExit(await runBuildCommand([], { ...flags, cwd: program.opts().cwd }, io));
  });

  addBuildOptions(
    program
      .command('build')
      .description('build the named components (and the components they start from)')
      .argument('<component...>', 'component folder names under components/')
      .addHelpText('after', '\nExample:\n  helmet-build build train --push localhost:5000/helmet\n'),
  ).action(async (components: string[], flags) => {
    const { runBuildCommand } = await import('./commands/build.js');
    setExit(await runBuildCommand(components, { ...flags, cwd: program.opts().cwd }, io));
  });

  program
    .command('plan')
    .description('say which components are up to date and which would be built, and why; builds and writes nothing')
    .argument('[component...]', 'component folder names under components/ (default: all)')
    .option('--push <repo>', 'look in this registry/prefix (default: local images in the engine)')
    .option('--build-arg <arg>', 'the build args a build would use (they are part of the input digest)', collect)
    .option('--json', 'print events and the result as NDJSON on stdout')
    .action(async (components: string[], flags) => {
      const { runBuildCommand } = await import('./commands/build.js');
      setExit(await runBuildCommand(components, { ...flags, tag: [], cache: true, verbose: false, resolveOnly: 'plan', cwd: program.opts().cwd }, io));
    });

  program
    .command('emit')
    .description('write component specs and the pipeline spec from images already pushed for the current inputs; builds nothing')
    .requiredOption('--push <repo>', 'the registry/prefix the images were pushed to')
    .option('--build-arg <arg>', 'the build args the images were built with (they are part of the input digest)', collect)
    .option('--out <dir>', 'output folder', 'dist')
    .option('--json', 'print events and the result as NDJSON on stdout')
    .addHelpText('after', '\nExample:\n  helmet-build emit --push localhost:5000/helmet\n')
    .action(async (flags) => {
      const { runBuildCommand } = await import('./commands/build.js');
      setExit(await runBuildCommand([], { ...flags, tag: [], cache: true, verbose: false, resolveOnly: 'resolve', cwd: program.opts().cwd }, io));
    });

  program
    .command('run')
    .description('run pipeline.yaml on the local Docker engine: build or reuse the images, then run the steps in order on a shared volume')
    .option('--param <name=value>', 'set a pipeline parameter (repeatable)', collect)
    .option('--skip-step <step>', 'do not run this step, nor the steps after it (repeatable)', collect)
    .option('--keep-volume', 'keep the volume standing in for the PVC, to inspect the outputs')
    .option('--network <mode>', 'network of the step containers', 'host')
    .option('--push <repo>', 'use (and push) images in this registry instead of local ones')
    .option('--build-arg <arg>', 'KEY=VALUE or COMPONENT:KEY=VALUE for the image builds (repeatable)', collect)
    .option('--json', 'print events and the result as NDJSON on stdout')
    .option('-v, --verbose', 'show build logs')
    .addHelpText('after', '\nExample:\n  helmet-build run --param dataurl=http://127.0.0.1:8000/VOC2028.tar.gz --skip-step train --keep-volume\n')
    .action(async (flags) => {
      const { runRunCommand } = await import('./commands/run.js');
      setExit(await runRunCommand({ ...flags, cwd: program.opts().cwd }, io));
    });

  program
    .command('doctor')
    .description('check the project files, the Docker engine, and (with --push) the registry and its credentials')
    .option('--push <repo>', 'also check this registry/prefix and the credentials for it')
    .option('--json', 'print JSON')
    .action(async (flags) => {
      const { runDoctorCommand } = await import('./commands/doctor.js');
      setExit(await runDoctorCommand({ ...flags, cwd: program.opts().cwd }, io));
    });

  program
    .command('list')
    .description('list the components, their images and Dockerfiles')
    .option('--json', 'print JSON')
    .action(async (flags) => {
      const { runListCommand } = await import('./commands/list.js');
      setExit(await runListCommand({ ...flags, cwd: program.opts().cwd }, io));
    });

  return program;
}

/** Parse argv, run a command, and map every outcome to a documented exit code. */
export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram(io, (c) => (code = c));
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
      if (e.hint) io.err.write(`hint: ${e.hint}\n`);
      return e.exitCode;
    }
    io.err.write(`helmet-build: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    io.err.write('This is a bug in helmet-build; please report it with the command you ran and the output above.\n');
    return ExitCode.failed;
  }
}
