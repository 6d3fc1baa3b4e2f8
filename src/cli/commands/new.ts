/** `helmet-build new <name>`: scaffold a component and say what was written and what to do next. */
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { findProjectRoot } from '../../project/project-root.js';
import { newComponent } from '../../scaffold/new-component.js';
import type { Io } from '../context.js';

export async function runNewCommand(name: string, flags: { cwd: string; from?: string; dockerfile?: string | true }, io: Io): Promise<number> {
  // A new project has no components/ yet: then the component goes into the current folder.
  let root: string;
  try {
    root = findProjectRoot(flags.cwd);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    root = resolve(flags.cwd);
  }
  const written = newComponent({ root, name, from: flags.from, dockerfile: flags.dockerfile });
  for (const path of written) io.err.write(`wrote ${path}\n`);
  io.err.write(`next: edit components/${name}/, then helmet-build build ${name}\n`);
  return 0;
}
