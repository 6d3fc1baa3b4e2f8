/**
 * Where each image comes from, and what each FROM line of its Dockerfile resolves to: the words
 * `doctor` shows, so that a user sees which FROM lines start from an image built here (pinned) and
 * which from an image as the engine or its registry holds it.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fromLines } from '../dockerfile/from-lines.js';
import type { Component } from './model.js';

export interface FromResolution {
  line: number;
  /** As written, e.g. `${BASE_IMAGE}` or `ml-pipeline-local-base`. */
  written: string;
  /** What the build starts from there. */
  resolvesTo: string;
}

export interface ImageProvenance {
  component: string;
  image: string;
  /** `build-section`, `project-file`, `dockerfile-beside`, `images`, `prebuilt` or `image-built-here` (as `plan --json` says it). */
  source: string;
  dockerfile?: string;
  from: FromResolution[];
  /** For a prebuilt component: the component or images: entry built here whose image it names. */
  imageOf?: string;
}

const SOURCE_WORDS: Record<string, string> = {
  'build-section': 'build: in component.yaml',
  'project-file': 'settings in helmet-build.yaml',
  'dockerfile-beside': 'the Dockerfile found beside component.yaml',
  images: 'an images: entry of helmet-build.yaml',
};

export function imageProvenance(root: string, c: Component): ImageProvenance {
  if (c.kind === 'prebuilt') {
    if (c.imageOf) return { component: c.name, image: c.image, source: 'image-built-here', from: [], imageOf: c.imageOf.name };
    return { component: c.name, image: c.image, source: 'prebuilt', from: [] };
  }
  const source = c.imageOnly ? 'images' : c.build.origin;
  let text = '';
  try {
    text = readFileSync(c.build.dockerfilePath, 'utf8');
  } catch {
    // The loader checked it is there; a file removed since has no FROM lines to show.
  }
  const from = fromLines(text, c.build.args).map((l): FromResolution => {
    const base = c.base && (c.baseFromLines?.includes(l.line) || l.args.includes('BASE_IMAGE')) ? c.base : undefined;
    const resolvesTo = base
      ? `the image built here for ${base.name}, pinned by digest`
      : l.image
        ? `${l.image}, as the engine or its registry has it`
        : `whatever --build-arg ${l.args.join(', ')} gives`;
    return { line: l.line, written: l.written, resolvesTo };
  });
  return { component: c.name, image: c.build.image, source, dockerfile: relative(root, c.build.dockerfilePath), from };
}

/** One line per image, then one per FROM line. */
export function describeProvenance(p: ImageProvenance): string[] {
  if (p.source === 'prebuilt')
    return [`${p.component}: prebuilt ${p.image}, pinned to the digest its registry serves for that tag (as written when no registry answers)`];
  if (p.source === 'image-built-here') return [`${p.component}: prebuilt ${p.image}, pinned to the image built here for ${p.imageOf}`];
  return [
    `${p.component}: ${p.image} from ${p.dockerfile} (${SOURCE_WORDS[p.source] ?? p.source})`,
    ...p.from.map((f) => `  ${p.dockerfile}:${f.line} FROM ${f.written} -> ${f.resolvesTo}`),
  ];
}
