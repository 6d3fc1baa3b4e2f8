import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { runCli } from '../support/project.js';

const ROOT = join(import.meta.dirname, '..', '..');
const silent = { out: { write: () => true }, err: { write: () => true } } as unknown as Parameters<typeof buildProgram>[0];

describe('--version and --help', () => {
  it('--version and -V print the version in package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag], ROOT);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it("every command's --help names each of its options and shows an example", () => {
    const program = buildProgram(silent, () => {});
    expect(program.commands.map((c) => c.name()).sort()).toEqual(['all', 'build', 'doctor', 'emit', 'init', 'list', 'new', 'plan', 'run', 'submit', 'verify']);
    for (const command of program.commands) {
      const help = command.helpInformation();
      for (const option of command.options) expect(help, `${command.name()} ${option.flags}`).toContain(option.long ?? option.short!);
      let text = '';
      command.configureOutput({ writeOut: (s) => (text += s) }).exitOverride();
      expect(() => command.outputHelp()).not.toThrow();
      expect(text, command.name()).toMatch(/Examples?:\n {2}helmet-build /);
    }
  });
});

describe('only the command a run names is registered', () => {
  const names = (argv: string[]) => buildProgram(silent, () => {}, ['node', 'helmet-build', ...argv]).commands.map((c) => c.name());

  it('a command after -C, --cwd or --cwd= is registered alone', () => {
    expect(names(['all', '--push', 'r'])).toEqual(['all']);
    expect(names(['-C', 'some/dir', 'plan'])).toEqual(['plan']);
    expect(names(['--cwd', 'all', 'build', 'train'])).toEqual(['build']);
    expect(names(['--cwd=x', '-Cy', 'submit', '--version', '2'])).toEqual(['submit']);
  });

  it('no command, help, --help, --version and a typo get every command', () => {
    for (const argv of [[], ['help', 'all'], ['--help'], ['-V'], ['bulid'], ['-C', 'x', '--help']]) expect(names(argv), argv.join(' ')).toHaveLength(11);
  });

  it('a typo is still answered with the command meant, and a command with its own help', async () => {
    const typo = await runCli(['bulid'], ROOT);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('(Did you mean build?)');
    const help = await runCli(['-C', ROOT, 'plan', '--help'], ROOT);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: helmet-build plan');
    expect(help.stdout).toContain('--push <repo>');
  });
});

describe('Makefile targets', () => {
  /** The Makefile in a scratch folder with `components`, and the files its setup rules look at. */
  function scratch(components: string[]): string {
    const dir = mkdtempSync(join(tmpdir(), 'helmet-make-'));
    cpSync(join(ROOT, 'Makefile'), join(dir, 'Makefile'));
    for (const f of ['package.json', 'package-lock.json', 'node_modules/.package-lock.json']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), '{}');
    }
    for (const c of components) {
      mkdirSync(join(dir, 'components', c), { recursive: true });
      writeFileSync(join(dir, 'components', c, 'component.yaml'), 'name: x\n');
    }
    return dir;
  }

  it('make -n train names helmet-build build train; REPO adds --push', async () => {
    const { stdout } = await execa('make', ['-n', 'train'], { cwd: ROOT });
    expect(stdout).toMatch(/node bin\/helmet-build\.js build train\s*$/m);
    const pushed = await execa('make', ['-n', 'train', 'REPO=localhost:5000/helmet'], { cwd: ROOT });
    expect(pushed.stdout).toContain('node bin/helmet-build.js build train --push localhost:5000/helmet');
  });

  it('a new component folder is a target at once, without editing the Makefile', async () => {
    const dir = scratch(['ingest', 'fresh-step']);
    try {
      expect((await execa('make', ['-n', 'fresh-step'], { cwd: dir })).stdout).toContain('helmet-build.js build fresh-step');
      expect((await execa('make', ['help'], { cwd: dir })).stdout).toContain('rebuild one component: fresh-step ingest');
      // A folder named like a Makefile target does not shadow it.
      const clash = scratch(['test']);
      try {
        expect((await execa('make', ['help'], { cwd: clash })).stdout).not.toMatch(/rebuild one component: .*test/);
      } finally {
        rmSync(clash, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
