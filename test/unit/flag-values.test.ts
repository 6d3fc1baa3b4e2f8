/**
 * Flag values on their way in: an empty value, or one that is another flag, is refused by one check
 * shared by every command (rows in bad-input-table.test.ts); everything else passes unchanged.
 */
import type { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { ARGUMENT_EXAMPLES, VALUE_EXAMPLES } from '../../src/cli/options.js';
import { UsageError } from '../../src/errors.js';

const silent = { out: { write: () => true }, err: { write: () => true } } as unknown as Parameters<typeof buildProgram>[0];

/** The options the command named first in `args` would run with; it never runs. */
async function parsedOptions(args: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram(silent, () => {});
  let opts: Record<string, unknown> | undefined;
  program.hook('preAction', (_root, action) => {
    opts = action.opts();
    throw new Error('stop before the command');
  });
  await program.parseAsync(['node', 'helmet-build', ...args]).catch((e: Error) => {
    if (!opts) throw e;
  });
  return opts!;
}

function commands(root: Command): Command[] {
  return [root, ...root.commands.flatMap(commands)];
}

const savedBuilder = process.env.HELMET_BUILDER;
afterEach(() => {
  if (savedBuilder === undefined) delete process.env.HELMET_BUILDER;
  else process.env.HELMET_BUILDER = savedBuilder;
});

describe('flag values', () => {
  it('every flag that takes a value, and every argument, of every command says what to give when its value is empty', () => {
    for (const command of commands(buildProgram(silent, () => {}))) {
      for (const option of command.options.filter((o) => o.required || o.optional)) {
        expect(VALUE_EXAMPLES[option.long!], `${command.name()} ${option.flags}`).toMatch(/^give /);
      }
      for (const argument of command.registeredArguments) expect(ARGUMENT_EXAMPLES[argument.name()], `${command.name()} <${argument.name()}>`).toBeDefined();
    }
  });

  it('values pass unchanged, in the --flag value and --flag=value forms, and repeatable flags still collect', async () => {
    const opts = await parsedOptions([
      'all',
      '--push=registry.example.com/team',
      '--tag',
      'v1',
      '--tag=v2',
      '--build-arg',
      'A=1',
      '--build-arg=train:B=',
      '--concurrency=3',
      '--out',
      'out dir',
      '--builder=classic',
    ]);
    expect(opts).toMatchObject({
      push: 'registry.example.com/team',
      tag: ['v1', 'v2'],
      buildArg: ['A=1', 'train:B='],
      concurrency: 3,
      out: 'out dir',
      builder: 'classic',
    });
    expect(await parsedOptions(['run', '--param', 'who=', '--skip-step=train', '--parallel', '4'])).toMatchObject({
      param: ['who='],
      skipStep: ['train'],
      parallel: 4,
      network: 'host',
    });
  });

  it('defaults are not values given: --out, --network and -C keep theirs', async () => {
    expect(await parsedOptions(['all'])).toMatchObject({ out: 'dist' });
    expect(await parsedOptions(['run'])).toMatchObject({ network: 'host' });
  });

  it('a build argument may be empty after the = (KEY=), which is a value', async () => {
    expect(await parsedOptions(['all', '--build-arg', 'KEY='])).toMatchObject({ buildArg: ['KEY='] });
  });

  it('HELMET_BUILDER set but empty is refused by its own name; a --builder flag wins over it', async () => {
    process.env.HELMET_BUILDER = '';
    await expect(parsedOptions(['all'])).rejects.toThrow(
      new UsageError('HELMET_BUILDER (the default of --builder) is set but empty; set a value --builder takes, or unset it'),
    );
    expect(await parsedOptions(['all', '--builder', 'buildkit'])).toMatchObject({ builder: 'buildkit' });
    process.env.HELMET_BUILDER = 'classic';
    expect(await parsedOptions(['all'])).toMatchObject({ builder: 'classic' });
  });

  it('an empty value is a usage error (exit 2) naming the flag, thrown while the flags are read', async () => {
    const error = await parsedOptions(['plan', '--tag=']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe('--tag: empty value; give an image tag, e.g. --tag v1 (is the variable you passed unset?)');
    expect((error as UsageError).exitCode).toBe(2);
  });
});
