/**
 * The images a Dockerfile's FROM lines pull, as the builder resolves them: global ARGs (those before
 * the first FROM) with their defaults, overridden by the build args given, substituted into each
 * FROM (`$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME:+word}`); stage names and `scratch` pull nothing.
 * The classic builder needs credentials for these registries up front (X-Registry-Config).
 */
import { parseImageRef } from '../registry/image-ref.js';

/** Logical lines: comments and blank lines dropped, `\` continuations joined. */
function instructions(dockerfile: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of dockerfile.split(/\r?\n/)) {
    if (!current && /^\s*#/.test(raw)) continue;
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) out.push(current.trim());
    current = '';
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

function substitute(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced, op, word, bare) => {
    const name = (braced ?? bare) as string;
    const value = vars.get(name);
    if (op === '-') return value ? value : (word as string);
    if (op === '+') return value ? (word as string) : '';
    return value ?? '';
  });
}

/** The image references the FROM lines pull, after build-arg substitution. */
export function baseImages(dockerfile: string, buildArgs: Record<string, string>): string[] {
  const globals = new Map<string, string>();
  const stages = new Set<string>();
  const images: string[] = [];
  let seenFrom = false;
  for (const line of instructions(dockerfile)) {
    const [keyword = '', ...rest] = line.split(/\s+/);
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
      const image = substitute(words[0] ?? '', globals);
      if (words[1]?.toUpperCase() === 'AS' && words[2]) stages.add(words[2].toLowerCase());
      if (image && image.toLowerCase() !== 'scratch' && !stages.has(image.toLowerCase()) && !images.includes(image)) images.push(image);
    }
  }
  return images;
}

/** The registries those images are pulled from (docker.io for Docker Hub names). */
export function baseRegistries(dockerfile: string, buildArgs: Record<string, string>): string[] {
  const registries: string[] = [];
  for (const image of baseImages(dockerfile, buildArgs)) {
    let registry: string;
    try {
      registry = parseImageRef(image).registry;
    } catch {
      // Not a reference the engine could pull either: it reports that itself.
      continue;
    }
    if (!registries.includes(registry)) registries.push(registry);
  }
  return registries;
}
