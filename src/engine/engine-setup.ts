/** The build settings that depend on the engine (which builder, the default network of RUN steps), decided once per run. */
import { EngineUnsupportedError, UsageError } from '../errors.js';
import type { Builder, EngineClient } from './engine-client.js';

export type BuilderChoice = 'auto' | Builder;

/** How a BuildKit build gets its context: through the session's FileSync, or as a tar body. */
export type ContextTransfer = 'filesync' | 'tar';

export interface EngineSetup {
  builder: Builder;
  /** BuildKit only: how the context is sent (the classic builder always reads a tar body). */
  contextTransfer?: ContextTransfer;
  /** Network of RUN steps for components that set none. */
  network?: string;
}

/**
 * Which builder, and the default network of RUN steps, for this engine. `buildNetwork` is the
 * user's choice (--build-network); BuildKit's RUN steps otherwise join the bridge network, which an
 * engine without one fails: there they use the host network.
 */
export async function decideEngineSetup(
  engine: EngineClient,
  wanted: BuilderChoice = 'auto',
  buildNetwork?: string,
  transfer: ContextTransfer = 'filesync',
): Promise<EngineSetup> {
  const caps = await engine.capabilities();
  if (wanted === 'buildkit' && !caps.buildkit) {
    throw new UsageError('the Docker engine has no BuildKit (it needs API 1.39 or later on Linux)', {
      hint: 'Use --builder classic, or an engine with BuildKit.',
    });
  }
  const builder: Builder = wanted === 'auto' ? (caps.buildkit ? 'buildkit' : 'classic') : wanted;
  const contextTransfer = builder === 'buildkit' ? transfer : undefined;
  if (contextTransfer === 'tar') await refuseBrokenTarContexts(engine);
  const network = buildNetwork ?? (builder === 'buildkit' && !caps.bridge ? 'host' : undefined);
  return { builder, ...(contextTransfer ? { contextTransfer } : {}), ...(network ? { network } : {}) };
}

/** One line for `doctor`: the builder this engine gets, and why its RUN steps use the network they use. */
export function describeSetup(setup: EngineSetup): string {
  if (setup.builder === 'classic') return 'classic builder only (no BuildKit)';
  return `BuildKit${setup.network === 'host' ? ' (no bridge network: RUN steps use host)' : ''}`;
}

/** The first Docker release whose BuildKit reads a tar context on the containerd image store (moby/moby#47717). */
const TAR_CONTEXT_FIXED_IN = [27, 5, 0];

/**
 * Docker 25–27.4 with the containerd image store fails every BuildKit build whose context comes as
 * a tar body ("failed to read downloaded context"): with HELMET_CONTEXT_TRANSFER=tar, say so before
 * the first build, with the ways out. FileSync builds work there.
 */
async function refuseBrokenTarContexts(engine: EngineClient): Promise<void> {
  const facts = await engine.describe();
  if (facts.imageStore !== 'containerd' || !olderThan(facts.version, TAR_CONTEXT_FIXED_IN)) return;
  throw new EngineUnsupportedError(
    `Docker ${facts.version} with the containerd image store cannot build with BuildKit from an uploaded context (moby/moby#47717, fixed in Docker 27.5)`,
    {
      hint: `Unset HELMET_CONTEXT_TRANSFER (the context then goes through the build session), use --builder classic, upgrade the engine to Docker 27.5 or later, or turn off its containerd image store.`,
    },
  );
}

/** Whether a version such as `26.1.5+dfsg1` is older than `than`. */
function olderThan(version: string, than: number[]): boolean {
  const parts = (/^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version) ?? []).slice(1).map((p) => Number(p ?? 0));
  if (parts.length === 0) return false;
  for (let i = 0; i < than.length; i++) {
    const a = parts[i] ?? 0;
    if (a !== than[i]) return a < than[i]!;
  }
  return false;
}
