/** `helmet-build list`: the components, their image names and Dockerfiles. */
import { relative } from 'node:path';
import { loadProject } from '../../project/load-project.js';
import { findProjectRoot } from '../../project/project-root.js';
import type { Io } from '../context.js';

export async function runListCommand(flags: { cwd: string; json?: boolean }, io: Io): Promise<number> {
  const root = findProjectRoot(flags.cwd);
  const project = loadProject(root);
  const rows = project.components.map((c) => ({
    component: c.name,
    name: c.spec.name ?? c.name,
    image: c.kind === 'built' ? c.build.image : c.image,
    dockerfile: c.kind === 'built' ? relative(root, c.build.dockerfilePath) : undefined,
    from: c.kind === 'built' ? c.base?.name : undefined,
    /** FROM lines of the Dockerfile that name the base's image, built on the image this run makes for it. */
    fromLines: c.kind === 'built' && c.baseFromLines?.length ? c.baseFromLines : undefined,
    /** Where its build comes from: `build:` in component.yaml, or the Dockerfile beside it. */
    origin: c.kind === 'built' ? (c.imageOnly ? 'image' : c.build.origin) : 'prebuilt',
    prebuilt: c.kind === 'prebuilt',
    /** For a prebuilt component: the component or images: entry built here whose image its image: line names. */
    imageOf: c.kind === 'prebuilt' ? c.imageOf?.name : undefined,
  }));
  if (flags.json) {
    io.out.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  for (const r of rows) {
    const found =
      r.origin === 'dockerfile-beside'
        ? ', found beside component.yaml'
        : r.origin === 'image'
          ? ', an image of helmet-build.yaml (no KFP spec)'
          : r.origin === 'project-file'
            ? ', settings from helmet-build.yaml'
            : '';
    const startsFrom = r.from ? ` (starts from ${r.from}${r.fromLines ? `, named in FROM on line ${r.fromLines.join(', ')}` : ''})` : '';
    const pinnedTo = r.imageOf ? ` (pinned to the image of ${r.imageOf}, built here)` : '';
    const how = r.prebuilt ? `prebuilt ${r.image}${pinnedTo}` : `${r.image} from ${r.dockerfile}${found}${startsFrom}`;
    io.out.write(`${r.component.padEnd(16)} ${how}\n`);
  }
  return 0;
}
