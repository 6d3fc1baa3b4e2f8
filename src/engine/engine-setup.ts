/** The build settings that depend on the engine (which builder, the default network of RUN steps), decided once per run. */
import { UsageError } from '../errors.js';
import type { Builder, EngineClient } from './engine-client.js';

export type BuilderChoice = 'auto' | Builder;

export interface EngineSetup {
  builder: Builder;
  /** Network of RUN steps for components that set none. */
  network?: string;
}

/**
 * Which builder, and the default network of RUN steps, for this engine. `buildNetwork` is the
 * user's choice (--build-network); BuildKit's RUN steps otherwise join the bridge network, which an
 * engine without one fails: there they use the host network.
 */
export async function decideEngineSetup(engine: EngineClient, wanted: BuilderChoice = 'auto', buildNetwork?: string): Promise<EngineSetup> {
  const caps = await engine.capabilities();
  if (wanted === 'buildkit' && !caps.buildkit) {
    throw new UsageError('the Docker engine has no BuildKit (it needs API 1.39 or later on Linux)', {
      hint: 'Use --builder classic, or an engine with BuildKit.',
    });
  }
  const builder: Builder = wanted === 'auto' ? (caps.buildkit ? 'buildkit' : 'classic') : wanted;
  const network = buildNetwork ?? (builder === 'buildkit' && !caps.bridge ? 'host' : undefined);
  return { builder, ...(network ? { network } : {}) };
}

/** One line for `doctor`: the builder this engine gets, and why its RUN steps use the network they use. */
export function describeSetup(setup: EngineSetup): string {
  if (setup.builder === 'classic') return 'classic builder only (no BuildKit)';
  return `BuildKit${setup.network === 'host' ? ' (no bridge network: RUN steps use host)' : ''}`;
}
