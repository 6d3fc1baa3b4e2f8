/**
 * A Dockerfile's FROM lines as the builder resolves them: global ARGs (those before the first FROM)
 * with their defaults, overridden by the build args given, substituted into each FROM (`$NAME`,
 * `${NAME}`, `${NAME:-word}`, `${NAME:+word}`); a FROM naming an earlier stage or `scratch` pulls
 * nothing. Also the one place that rewrites a FROM line's image, for a base this run builds.
 */
import { shortDockerHubName } from '../names/docker-hub.js';

/** A FROM instruction that pulls an image. */
export interface FromLine {
  /** 1-based line of the FROM keyword, for messages. */
  line: number;
  /** The image word as written (`${BASE_IMAGE}`, `ml-pipeline-local-base:1.7`). */
  written: string;
  /** The image after substitution of the global ARGs and the build args; empty when an ARG it names has no value. */
  image: string;
  /** Names of the global ARGs the written word refers to. */
  args: string[];
}

interface Instruction {
  /** 0-based index of its first physical line. */
  start: number;
  text: string;
}

/** Logical lines: comments and blank lines dropped, `\` continuations joined. */
function instructions(dockerfile: string): Instruction[] {
  const out: Instruction[] = [];
  let current = '';
  let start = 0;
  dockerfile.split(/\r?\n/).forEach((raw, i) => {
    if (!current && /^\s*#/.test(raw)) return;
    if (!current) start = i;
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      return;
    }
    current += line;
    if (current.trim()) out.push({ start, text: current.trim() });
    current = '';
  });
  if (current.trim()) out.push({ start, text: current.trim() });
  return out;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

function substitute(text: string, vars: Map<string, string>): string {
  return text.replace(VARIABLE, (_m, braced, op, word, bare) => {
    const name = (braced ?? bare) as string;
    const value = vars.get(name);
    if (op === '-') return value ? value : (word as string);
    if (op === '+') return value ? (word as string) : '';
    return value ?? '';
  });
}

/** The FROM lines that pull an image, after build-arg substitution, in file order. */
export function fromLines(dockerfile: string, buildArgs: Record<string, string>): FromLine[] {
  const globals = new Map<string, string>();
  const stages = new Set<string>();
  const lines: FromLine[] = [];
  let seenFrom = false;
  for (const { start, text } of instructions(dockerfile)) {
    const [keyword = '', ...rest] = text.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && !seenFrom) {
      for (const decl of rest) {
        const eq = decl.indexOf('=');
        const name = eq < 0 ? decl : decl.slice(0, eq);
        const fallback = eq < 0 ? undefined : decl.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2');
        const value = buildArgs[name] ?? (fallback === undefined ? undefined : substitute(fallback, globals));
        if (value !== undefined) globals.set(name, value);
      }
    } else if (upper === 'FROM') {
      seenFrom = true;
      const words = rest.filter((w) => !w.startsWith('--'));
      const written = words[0] ?? '';
      const image = substitute(written, globals);
      if (words[1]?.toUpperCase() === 'AS' && words[2]) stages.add(words[2].toLowerCase());
      const args = [...written.matchAll(VARIABLE)].map((m) => (m[1] ?? m[4]) as string);
      // A FROM whose ARG has no value yet (`ARG BASE_IMAGE` then `FROM ${BASE_IMAGE}`) is kept: the build gives it one.
      if ((!image && args.length === 0) || image.toLowerCase() === 'scratch' || stages.has(image.toLowerCase())) continue;
      lines.push({ line: start + 1, written, image, args });
    }
  }
  return lines;
}

/** The images the FROM lines pull (each once). */
export function baseImages(dockerfile: string, buildArgs: Record<string, string>): string[] {
  return [...new Set(fromLines(dockerfile, buildArgs).map((f) => f.image))].filter(Boolean);
}

/**
 * The name an image reference is known by, for matching: without tag or digest, Docker Hub's long
 * forms (`docker.io/library/x`, `index.docker.io/x`) as the short one (`x`).
 */
export function imageNameOfRef(ref: string): string {
  let name = ref.split('@')[0]!;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  return shortDockerHubName(name);
}

/**
 * The Dockerfile with the image word of the FROM lines at `lines` (1-based, as FromLine gives them)
 * replaced by `image`: a FROM that names a base by its name is built on the image made for it.
 */
export function withFromImage(dockerfile: string, lines: number[], image: string): string {
  const physical = dockerfile.split('\n');
  for (const line of lines) {
    // The image is the first word after FROM and its --flags, on this line or a continuation of it.
    for (let i = line - 1, skipKeyword = true; i < physical.length; i++) {
      const text = physical[i]!;
      let replaced = false;
      physical[i] = text.replace(/(\s*)(\S+)/g, (whole, space: string, word: string) => {
        if (replaced) return whole;
        if (skipKeyword) {
          skipKeyword = false;
          return whole;
        }
        if (word.startsWith('--') || word === '\\') return whole;
        replaced = true;
        return `${space}${image}`;
      });
      if (replaced || !text.trimEnd().endsWith('\\')) break;
    }
  }
  return physical.join('\n');
}
