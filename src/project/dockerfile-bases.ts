/**
 * Which component a built component starts from, as its Dockerfile says it: a FROM line naming the
 * image another component builds (with or without tag or registry, also through ARG defaults) makes
 * that component its base, as `from:` does, and the line is built on the image made for it in this
 * run — never on an image of the engine that merely carries the name. A `from:` the Dockerfile never
 * uses (no `${BASE_IMAGE}`, no FROM naming the base) is refused: it would build on whatever its FROM
 * names while recording the fresh base.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { type FromLine, fromLines, imageNameOfRef } from '../dockerfile/from-lines.js';
import type { ConfigProblem } from '../errors.js';
import type { ComponentRead } from './component-file.js';
import type { BuiltComponent } from './model.js';

/** The built components by the image names that stand for them: what they build, and their own `image:` line. */
function builtByImageName(reads: Map<string, ComponentRead>): Map<string, BuiltComponent> {
  const byImageName = new Map<string, BuiltComponent>();
  for (const { component: c } of reads.values()) {
    if (c.kind !== 'built') continue;
    byImageName.set(imageNameOfRef(c.build.image), c);
    const declared = c.spec.implementation.container.image;
    if (declared) byImageName.set(imageNameOfRef(declared), c);
  }
  return byImageName;
}

/**
 * A prebuilt component whose `image:` line names an image built here (tag aside; a reference pinned
 * by digest stays as written) gets `imageOf`: it is pinned to that image as this run makes it.
 */
export function resolvePrebuiltImages(reads: Map<string, ComponentRead>): void {
  const byImageName = builtByImageName(reads);
  for (const { component: c } of reads.values()) {
    if (c.kind !== 'prebuilt' || c.image.includes('@')) continue;
    const built = byImageName.get(imageNameOfRef(c.image));
    if (built) c.imageOf = built;
  }
}

/** Sets `base` and `baseFromLines` from the Dockerfiles; the problems found. `from:` bases are already set. */
export function resolveDockerfileBases(root: string, reads: Map<string, ComponentRead>): ConfigProblem[] {
  const byImageName = builtByImageName(reads);
  const problems: ConfigProblem[] = [];
  for (const read of reads.values()) {
    const c = read.component;
    if (c.kind !== 'built') continue;
    let text: string;
    try {
      text = readFileSync(c.build.dockerfilePath, 'utf8');
    } catch {
      continue; // reported where the component file was read
    }
    const lines = fromLines(text, c.build.args);
    const naming = lines
      .map((line) => ({ line, base: byImageName.get(imageNameOfRef(line.image)) }))
      .filter((m): m is { line: FromLine; base: BuiltComponent } => m.base !== undefined && m.base !== c);
    const dockerfile = relative(root, c.build.dockerfilePath);
    const at = (line: number, message: string): ConfigProblem => ({ file: dockerfile, line, column: 1, path: '', message });
    const bases = [...new Set(naming.map((m) => m.base))];
    if (bases.length > 1) {
      problems.push(
        at(
          naming[1]!.line.line,
          `FROM lines name the images of ${bases.map((b) => b.name).join(' and ')} (component ${c.name}): a component starts from one component's image`,
        ),
      );
      continue;
    }
    const named = bases[0];
    if (c.base && named && named !== c.base) {
      problems.push(read.problemAt(['build', 'from'], `is ${c.base.name}, but ${dockerfile}:${naming[0]!.line.line} starts from ${named.name}'s image`));
      continue;
    }
    if (named) {
      c.base = named;
      c.baseFromLines = naming.map((m) => m.line.line);
    } else if (c.base && !lines.some((l) => l.args.includes('BASE_IMAGE'))) {
      problems.push(
        read.problemAt(
          ['build', 'from'],
          `is ${c.base.name}, but no FROM line of ${dockerfile} uses \${BASE_IMAGE} or names ${c.base.name}'s image (${c.base.build.image}): the build would start from whatever its FROM line names`,
        ),
      );
    }
  }
  return problems;
}
