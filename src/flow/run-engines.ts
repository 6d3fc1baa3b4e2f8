/**
 * The engines a build run uses: those of `engines:` in helmet-build.yaml (DOCKER_HOST is then not
 * consulted for builds), else DOCKER_HOST's alone, with as many build slots as the run builds at once;
 * and, without --push, the engine's own platform, the one a component of several is built for.
 */
import type { EngineClient } from '../engine/engine-client.js';
import { UsageError } from '../errors.js';
import type { EventListener } from '../events.js';
import { EnginePool } from '../execute/engine-pool.js';
import type { RunSettings } from '../plan/run-settings.js';
import type { Project } from '../project/model.js';
import { localPlatforms, platformsOf } from '../project/platform-needs.js';

export interface EngineSources {
  /** DOCKER_HOST's engine. */
  engine: EngineClient;
  /** The engine at an address of `engines:`. */
  engineAt?: (host: string) => EngineClient;
}

export function runEngines(project: Project, concurrency: number, sources: EngineSources, onEvent: EventListener): EnginePool {
  if (!project.engines) return new EnginePool([{ client: sources.engine, platforms: [], builds: concurrency }]);
  const engineAt = sources.engineAt;
  if (!engineAt) throw new UsageError('this run cannot reach the engines of helmet-build.yaml (engines:)');
  const engines = project.engines.map((e) => ({ host: e.host, client: engineAt(e.host), platforms: e.platforms, builds: e.builds }));
  return new EnginePool(engines, (engine, error) => onEvent({ type: 'warning', message: `engine ${engine.host} is left out of this run: ${error.message}` }));
}

/**
 * The one engine images may stay in between runs: DOCKER_HOST's, or the only engine of `engines:`;
 * none with several (they meet in the registry only).
 */
export function soleEngine(project: Project, sources: EngineSources): EngineClient | undefined {
  if (!project.engines) return sources.engine;
  return project.engines.length === 1 ? sources.engineAt?.(project.engines[0]!.host) : undefined;
}

/** Several engines share images through the registry only: a run without --push is refused before anything happens. */
export function checkEngines(project: Project, push: boolean): void {
  if (!project.engines || project.engines.length < 2 || push) return;
  throw new UsageError(`helmet-build.yaml lists ${project.engines.length} engines (engines:): a build over several engines needs --push REGISTRY`, {
    hint: 'Their images, bases and layer cache meet in the registry; give --push, or list one engine.',
  });
}

/** Without --push, components of several platforms are built for the engine's own alone: the engine is asked which, only then. */
export async function engineOwnPlatform(project: Project, settings: RunSettings, deps: EngineSources & { onEvent?: EventListener }): Promise<RunSettings> {
  const built = project.components.filter((c) => c.kind === 'built');
  if (!built.some((c) => platformsOf(c, settings.platforms).length > 1)) return settings;
  // Without --push there is one engine: several are refused by checkEngines.
  const engine = soleEngine(project, deps) ?? deps.engine;
  await engine.ping();
  const { platform } = await engine.describe();
  const { warning } = localPlatforms(built, settings.platforms, platform);
  if (warning) deps.onEvent?.({ type: 'warning', message: warning });
  return { ...settings, localPlatform: platform };
}
