/**
 * The platforms each component of a run is built for — `--platform`, else its own `platforms`, else
 * none (the engine's own) — and what more than one platform needs, checked before anything is built:
 * BuildKit (the classic builder builds for one), and a base built for every platform of the
 * components that start from it. Without a registry (no --push) the images of several platforms
 * cannot be joined in an index: such a run builds the engine's own platform alone (`localPlatforms`).
 */
import { UsageError } from '../errors.js';
import type { BuiltComponent } from './model.js';

/** The platforms `c` is built for in a run: sorted; empty for the engine's own. */
export function platformsOf(c: BuiltComponent, override: string[] | undefined, local?: string): string[] {
  const platforms = override ? [...override].sort() : (c.build.platforms ?? []);
  return local && platforms.length > 1 ? [local] : platforms;
}

export interface PlatformRun {
  /** `--platform`, overriding every component's own. */
  override?: string[];
  /** The builder the user chose. */
  builder: 'auto' | 'classic' | 'buildkit';
}

/**
 * Without --push, a component of several platforms is built for the engine's own alone (said once,
 * as a warning naming the others); one whose platforms do not include the engine's is refused.
 */
export function localPlatforms(components: BuiltComponent[], override: string[] | undefined, engine: string): { warning?: string } {
  const several = components.filter((c) => platformsOf(c, override).length > 1);
  if (!several.length) return {};
  const foreign = several.filter((c) => !platformsOf(c, override).includes(engine));
  if (foreign.length) {
    throw new UsageError(
      foreign
        .map(
          (c) =>
            `component ${c.name} is built for ${platformsOf(c, override).join(', ')}, not for the engine's own ${engine}: give --push REGISTRY to build them all`,
        )
        .join('\n'),
      { hint: 'Nothing was built or written.' },
    );
  }
  const others = [...new Set(several.flatMap((c) => platformsOf(c, override)))].filter((p) => p !== engine).sort();
  return {
    warning: `without --push only the engine's own platform ${engine} is built for ${several.map((c) => c.name).join(', ')} (not ${others.join(', ')}: several platforms are joined in an image index in a registry; give --push)`,
  };
}

/** Throws a UsageError (exit 2) naming each component whose platforms this run cannot build. */
export function checkPlatforms(components: BuiltComponent[], run: PlatformRun): void {
  const problems: string[] = [];
  for (const c of components) {
    const platforms = platformsOf(c, run.override);
    if (platforms.length > 1) {
      const list = platforms.join(', ');
      if (run.builder === 'classic')
        problems.push(`component ${c.name} is built for ${list}: the classic builder builds for one platform; build it with BuildKit`);
    }
    if (!c.base || !platforms.length) continue;
    const baseHas = platformsOf(c.base, run.override);
    const lacking = platforms.filter((p) => !baseHas.includes(p));
    if (lacking.length) {
      problems.push(
        `component ${c.name} is built for ${lacking.join(', ')}, which its base ${c.base.name} is not built for (${baseHas.join(', ') || "the engine's own platform"}): add ${lacking.length > 1 ? 'them' : 'it'} to the platforms of ${c.base.name}`,
      );
    }
  }
  if (problems.length) throw new UsageError(problems.join('\n'), { hint: 'Nothing was built or written.' });
}
