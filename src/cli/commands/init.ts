/** `helmet-build init`: write helmet-build.yaml for the repository in the current folder, and say what it found. */
import { resolve } from 'node:path';
import { initProject } from '../../scaffold/init-project.js';
import type { Io } from '../context.js';

export async function runInitCommand(flags: { cwd: string }, io: Io): Promise<number> {
  const root = resolve(flags.cwd);
  const result = initProject(root);
  for (const c of result.components) io.err.write(`found ${c.file}: ${c.built ? 'built from the Dockerfile beside it' : 'prebuilt'}\n`);
  for (const i of result.images) io.err.write(`found image ${i.name}: built by ${i.script} from ${i.context}\n`);
  for (const note of result.notes) io.err.write(`note: ${note}\n`);
  io.err.write(`wrote ${result.written}\nnext: helmet-build list, then helmet-build all --push <registry/prefix>\n`);
  return 0;
}
