/** `doctor`: checks of what helmet-build depends on (project files, engine, registry and credentials), one line each. */
import type { EngineClient } from '../engine/engine-client.js';
import { decideEngineSetup, describeSetup } from '../engine/engine-setup.js';
import { errorMessage, isHelmetError } from '../errors.js';
import { loadProject } from '../project/load-project.js';
import type { BuildEngineEntry } from '../project/model.js';
import { findProjectRoot } from '../project/project-root.js';
import { describeProvenance, imageProvenance } from '../project/provenance.js';
import type { CredentialSource } from '../registry/credentials.js';
import { imageRepository, parsePushTarget } from '../registry/image-ref.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { emulatedPlatforms } from './emulation.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  hint?: string;
  /** Exit code this failure maps to. */
  exitCode?: number;
  /** More to say, a line each (where each image comes from). */
  lines?: string[];
}

export interface DoctorDeps {
  engine: EngineClient;
  /** The engine at an address of `engines:` in helmet-build.yaml. */
  engineAt?: (host: string) => EngineClient;
  registry: RegistryApi & { describeRoute(registry: string): Promise<string> };
  credentials: CredentialSource;
}

/** Check what helmet-build depends on: the project files, the engine, and the registry with its credentials. */
export async function runDoctor(deps: DoctorDeps, options: { cwd: string; push?: string }): Promise<Check[]> {
  const checks: Check[] = [];
  let lines: string[] | undefined;
  const attempt = async (name: string, fn: () => Promise<string>) => {
    try {
      lines = undefined;
      const detail = await fn();
      checks.push({ name, ok: true, detail, ...(lines ? { lines } : {}) });
    } catch (e) {
      checks.push({
        name,
        ok: false,
        detail: errorMessage(e),
        hint: isHelmetError(e) ? e.hint : undefined,
        exitCode: isHelmetError(e) ? e.exitCode : 1,
      });
    }
  };

  let engines: BuildEngineEntry[] | undefined;
  await attempt('project', async () => {
    const project = loadProject(findProjectRoot(options.cwd));
    engines = project.engines;
    const pipeline = project.pipeline;
    const built = project.components.filter((c) => c.kind === 'built').length;
    lines = project.components.flatMap((c) => describeProvenance(imageProvenance(project.root, c)));
    return `${project.root}: ${project.components.length} component(s), ${built} built here${pipeline ? `; pipeline ${pipeline.name} with ${pipeline.steps.length} step(s)` : '; no pipeline.yaml'}`;
  });
  await attempt('engine', () => describeEngineAt(deps.engine, process.env.DOCKER_HOST));
  // Each engine builds spread over: one line each, an unreachable one failing its own line.
  for (const e of engines ?? []) {
    const engineAt = deps.engineAt;
    if (!engineAt) break;
    await attempt(
      `engine ${e.host}`,
      async () => `${await describeEngineAt(engineAt(e.host), e.host)}; builds natively ${e.platforms.join(', ')}, ${e.builds} at once`,
    );
  }
  if (options.push) {
    const target = parsePushTarget(options.push);
    await attempt('registry', async () => {
      const creds = await deps.credentials.get(target.registry);
      // A tag that does not exist: 404 proves the registry answers and accepts the credentials.
      const probe = imageRepository(target, 'helmet-doctor');
      // Through TLS (certs.d) and the token flow, as every lookup goes.
      await deps.registry.manifestDigest(probe.registry, probe.path, 'probe');
      const route = await deps.registry.describeRoute(target.registry);
      return `${target.registry} answers over ${route}; credentials: ${creds ? `from ${creds.source}` : 'none found (fine for a registry without auth)'}`;
    });
  }
  return checks;
}

/** One engine: version, image store, builder, GPUs, and the platforms it can emulate when it runs on this machine's kernel. */
async function describeEngineAt(engine: EngineClient, host: string | undefined): Promise<string> {
  await engine.ping();
  const d = await engine.describe();
  const gpu = (await engine.hasGpuSupport()) ? 'NVIDIA runtime present' : 'no GPU runtime (GPU steps can only be skipped in local runs)';
  const builder = describeSetup(await decideEngineSetup(engine));
  const store = d.imageStore === 'containerd' ? 'containerd image store' : 'classic image store';
  const local = !host || host.startsWith('unix://');
  const emulated = emulatedPlatforms();
  const emulation = local
    ? `emulates ${emulated.length ? emulated.join(', ') : 'no other platform (no QEMU binfmt handlers)'}`
    : 'emulation not checked (another machine)';
  return `Docker ${d.version} (API ${d.apiVersion}) on ${d.os}, storage ${d.storageDriver}, ${store}; builds with ${builder}; ${emulation}; ${gpu}`;
}
