/**
 * The platforms each component of a run is built for — `--platform`, else its own `platforms`, else
 * none (the engine's own) — and what more than one platform needs, checked before anything is built:
 * BuildKit (the classic builder builds for one), a registry (the images of several platforms are
 * joined in an index there), and a base built for every platform of the components that start from it.
 */
import { UsageError } from '../errors.js';
import type { BuiltComponent } from './model.js';

/** The platforms `c` is built for in a run: sorted; empty for the engine's own. */
export function platformsOf(c: BuiltComponent, override: string[] | undefined): string[] {
  return override ? [...override].sort() : (c.build.platforms ?? []);
}

export interface PlatformRun {
  /** `--platform`, overriding every component's own. */
  override?: string[];
  /** The builder the user chose. */
  builder: 'auto' | 'classic' | 'buildkit';
  /** Images go to a registry (--push). */
  push: boolean;
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
      if (!run.push) problems.push(`component ${c.name} is built for ${list}: give --push REGISTRY, where the platforms' images are joined in one image index`);
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
