/**
 * `helmet-build init`: helmet-build.yaml for a repository as it is. It finds the component.yaml files
 * (and the Dockerfiles beside them, which make them built), reads the FROM lines of those Dockerfiles,
 * and looks in the repository's build scripts for the `docker build -t NAME … CONTEXT` lines that made
 * the images those FROM lines name: each becomes an `images:` entry, with the folders the script
 * copied into its context first (`rsync`, `cp -r`) as `add:`. What it could not decide it says, and
 * it never writes over an existing helmet-build.yaml.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fdir } from 'fdir';
import { fromLines, imageNameOfRef } from '../dockerfile/from-lines.js';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { NEVER_WALKED } from '../project/project-config.js';
import { CONFIG_FILE } from '../project/project-root.js';

export interface InitResult {
  /** The file written, relative to the root. */
  written: string;
  components: { file: string; built: boolean; image?: string }[];
  images: { name: string; context: string; dockerfile: string; script: string; add: Addition[] }[];
  /** What it could not decide, in words. */
  notes: string[];
}

/** Folders a script copied into a context before it built it: `at` relative to the context, `from` to the root. */
interface Addition {
  at: string;
  from: string[];
}

/** A component.yaml found: whether a Dockerfile beside it builds it, and the image its `image:` line names. */
interface FoundFile {
  file: string;
  built: boolean;
  declared?: string;
}

type ScriptBuild = ReturnType<typeof dockerBuilds>[number] & { script: string };
type InitImage = InitResult['images'][number];

export function initProject(root: string): InitResult {
  if (existsSync(join(root, CONFIG_FILE))) {
    throw new UsageError(`${CONFIG_FILE} already exists; nothing was changed`, { hint: 'Edit it, or remove it to have init write it anew.' });
  }
  const files = new fdir()
    .withRelativePaths()
    .exclude((name) => NEVER_WALKED.has(name))
    .crawl(root)
    .sync()
    .sort();
  const componentFiles = files.filter((f) => basename(f) === 'component.yaml');
  if (componentFiles.length === 0) {
    throw new UsageError(`no component.yaml found in ${root}`, { hint: 'Run helmet-build init at the root of a repository of KFP components.' });
  }
  const notes: string[] = [];
  const components: FoundFile[] = componentFiles.map((file) => {
    const built = existsSync(join(root, dirname(file), 'Dockerfile'));
    const declared = declaredImage(readFileSync(join(root, file), 'utf8'));
    return { file, built, ...(declared ? { declared } : {}) };
  });
  const renamed = sharedImageNames(components, notes);
  const builds = files
    .filter((f) => /\.sh$/.test(f) || basename(f) === 'Makefile')
    .flatMap((f) => dockerBuilds(root, f).map((b): ScriptBuild => ({ ...b, script: f })));
  const images = scriptImages(root, components, builds, notes);
  writeFileAtomic(join(root, CONFIG_FILE), configText(components, renamed, images));
  return {
    written: CONFIG_FILE,
    components: components.map((c) => ({ file: c.file, built: c.built, ...(c.declared ? { image: c.declared } : {}) })),
    images: [...images.values()],
    notes,
  };
}

/** Two built components naming one image would push to one repository: each gets its folder's name. */
function sharedImageNames(components: FoundFile[], notes: string[]): Set<string> {
  const byImage = new Map<string, string[]>();
  for (const c of components) if (c.built && c.declared) byImage.set(imageNameOfRef(c.declared), [...(byImage.get(imageNameOfRef(c.declared)) ?? []), c.file]);
  const renamed = new Set<string>();
  for (const [image, named] of byImage) {
    if (named.length < 2) continue;
    for (const file of named) renamed.add(file);
    notes.push(`${named.join(', ')} all name the image ${image}: each builds its own, named after its folder (image: in ${CONFIG_FILE})`);
  }
  return renamed;
}

/**
 * The images build scripts make that the components need: those FROM lines name (and no component
 * builds), and those a component.yaml with no Dockerfile names (it is pinned to them).
 */
function scriptImages(root: string, components: FoundFile[], builds: ScriptBuild[], notes: string[]): Map<string, InitImage> {
  const builtNames = new Set(components.filter((c) => c.built && c.declared).map((c) => imageNameOfRef(c.declared!)));
  const images = new Map<string, InitImage>();
  const take = (name: string, made: ScriptBuild) => {
    if (!images.has(name)) images.set(name, { name, context: made.context, dockerfile: made.dockerfile, script: made.script, add: made.add });
  };
  for (const c of components.filter((c) => c.built)) {
    const dockerfile = join(dirname(c.file), 'Dockerfile');
    for (const line of fromLines(readFileSync(join(root, dockerfile), 'utf8'), {})) {
      const name = imageNameOfRef(line.image);
      if (!name || builtNames.has(name) || images.has(name)) continue;
      const made = builds.find((b) => b.name === name);
      if (made) take(name, made);
      else if (!/^(?:[a-z0-9.-]+\.[a-z]+(?::\d+)?|localhost(?::\d+)?)\//.test(name) && !name.includes('/')) {
        notes.push(
          `${dockerfile}:${line.line} starts FROM ${line.image}: no build script here makes it; if this repository builds it, add it under images: by hand`,
        );
      }
    }
  }
  for (const c of components.filter((c) => !c.built)) {
    const name = c.declared && !c.declared.includes('@') ? imageNameOfRef(c.declared) : undefined;
    const made = name ? builds.find((b) => b.name === name) : undefined;
    if (made) take(name!, made);
    if (made || (name && builtNames.has(name))) continue;
    notes.push(`${c.file}: no Dockerfile beside it, so it stays prebuilt (${c.declared ?? 'no image: line'})`);
  }
  return images;
}

function configText(components: FoundFile[], renamed: Set<string>, images: Map<string, InitImage>): string {
  const lines = ['# Written by helmet-build init: where this repository keeps its components and the images they start from.', 'components:'];
  for (const c of components) {
    if (renamed.has(c.file)) lines.push(`  - path: ${c.file}`, `    image: ${imageName(basename(dirname(c.file)))}`);
    else lines.push(`  - ${c.file}`);
  }
  if (images.size) {
    lines.push('images:');
    for (const image of images.values()) {
      lines.push(`  ${image.name}:                # from ${image.script}`, `    context: ${image.context}`);
      if (image.dockerfile !== 'Dockerfile') lines.push(`    dockerfile: ${image.dockerfile}`);
      if (image.add.length) {
        lines.push('    add:                               # copied into the context by the script');
        for (const a of image.add) lines.push(`      ${a.at}: [${a.from.join(', ')}]`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The implementation.container.image of a component.yaml, read by line (init must not fail on a file the loader would refuse). */
function declaredImage(text: string): string | undefined {
  const m = /^\s+image:\s*['"]?([^'"\s#]+)/m.exec(text.slice(text.indexOf('container:') + 1));
  return text.includes('container:') ? m?.[1] : undefined;
}

/** A folder name as an image name: lowercase, `_` kept. */
function imageName(folder: string): string {
  return folder.toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
}

/**
 * The `docker build` lines of a script: the image each tags (`-t NAME[:TAG]`), its context (relative
 * to the script's folder, where such scripts run), its Dockerfile (`-f`, relative to the context),
 * and the folders the lines before it copied into that context.
 */
function dockerBuilds(root: string, script: string): { name: string; context: string; dockerfile: string; add: Addition[] }[] {
  const text = readFileSync(join(root, script), 'utf8').replace(/\\\n/g, ' ');
  const vars = shellAssignments(text);
  const out: { name: string; context: string; dockerfile: string; add: Addition[] }[] = [];
  for (const match of text.matchAll(/docker\s+(?:image\s+)?build\b([^\n;&|]*)/g)) {
    const words = expand(match[1]!, vars)
      .trim()
      .split(/\s+/)
      .map((w) => w.replace(/^(["'])(.*)\1$/, '$2'))
      .filter(Boolean);
    let tag: string | undefined;
    let file: string | undefined;
    const positional: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w === '-t' || w === '--tag') tag = words[++i];
      else if (w.startsWith('--tag=')) tag = w.slice(6);
      else if (w === '-f' || w === '--file') file = words[++i];
      else if (w.startsWith('--file=')) file = w.slice(7);
      else if (w.startsWith('-')) {
        if (!w.includes('=') && ['--build-arg', '--target', '--platform', '--network', '--label'].includes(w)) i++;
      } else positional.push(w);
    }
    const contextArg = positional[positional.length - 1];
    if (!tag || !contextArg || /[$`]/.test(tag + contextArg)) continue;
    const context = relative(root, resolve(root, dirname(script), contextArg)) || '.';
    const dockerfile = file ? relative(resolve(root, context), resolve(root, dirname(script), file)) : 'Dockerfile';
    const copies = copiesInto(root, dirname(script), resolve(root, context), expand(text.slice(0, match.index), vars));
    out.push({ name: imageNameOfRef(tag), context, dockerfile, add: copies });
  }
  return out;
}

/**
 * The folders `rsync -a SRC DEST` and `cp -r SRC DEST` lines copied into `context` (absolute): as
 * rsync reads it, `SRC/` copies what SRC holds into DEST, `SRC` the folder itself into DEST/SRC.
 * Only folders of the repository, landing inside the context (not at its root), are kept.
 */
function copiesInto(root: string, scriptDir: string, context: string, text: string): Addition[] {
  const additions: Addition[] = [];
  for (const m of text.matchAll(/^\s*(rsync|cp)\s+([^\n;&|]*)/gm)) {
    const words = m[2]!
      .trim()
      .split(/\s+/)
      // Quotes as the shell drops them: "../roc/src"/ is ../roc/src/.
      .map((w) => w.replace(/["']/g, ''));
    const paths = words.filter((w) => !w.startsWith('-'));
    if (m[1] === 'cp' && !words.some((w) => /^-[a-zA-Z]*[rRa]/.test(w))) continue;
    if (paths.length !== 2 || /[$`*]/.test(paths.join(''))) continue;
    const [src, dest] = paths as [string, string];
    const contents = src.endsWith('/') || src.endsWith('/.');
    const from = resolve(root, scriptDir, src);
    const landing = resolve(root, scriptDir, dest, contents ? '.' : basename(from));
    const at = relative(context, landing);
    if (!at || at.startsWith('..') || !existsSync(from)) continue;
    const existing = additions.find((a) => a.at === at);
    if (existing) existing.from.push(relative(root, from));
    else additions.push({ at, from: [relative(root, from)] });
  }
  return additions;
}

/** `NAME=value` lines of a script (values may name earlier ones), as a build line's `${NAME}` reads them. */
function shellAssignments(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const m of text.matchAll(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|([^\s;#]*))/gm)) {
    vars.set(m[1]!, m[3] ?? expand(m[2] ?? m[4] ?? '', vars));
  }
  return vars;
}

function expand(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced, bare) => vars.get(braced ?? bare) ?? whole);
}
