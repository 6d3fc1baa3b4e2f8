/**
 * The engines a build run uses: those of `engines:` in helmet-build.yaml (DOCKER_HOST is then not
 * consulted for builds), else DOCKER_HOST's alone, with as many build slots as the run builds at once.
 */
import type { EngineClient } from '../engine/engine-client.js';
import { UsageError } from '../errors.js';
import type { EventListener } from '../events.js';
import { EnginePool } from '../execute/engine-pool.js';
import type { Project } from '../project/model.js';

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

/** Several engines share images through the registry only: a run without --push is refused before anything happens. */
export function checkEngines(project: Project, push: boolean): void {
  if (!project.engines || project.engines.length < 2 || push) return;
  throw new UsageError(`helmet-build.yaml lists ${project.engines.length} engines (engines:): a build over several engines needs --push REGISTRY`, {
    hint: 'Their images, bases and layer cache meet in the registry; give --push, or list one engine.',
  });
}
