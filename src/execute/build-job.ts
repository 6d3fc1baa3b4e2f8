/**
 * The build job of one component: its context sent through the build session's FileSync (BuildKit)
 * or as a tar body (the classic builder, or HELMET_CONTEXT_TRANSFER=tar), built with the run's
 * builder and the component's settings, labelled with its input digest. A context that changed
 * since its digest was computed fails the build and leaves no content tag behind.
 */

import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type { BuildContext } from '../context/build-context.js';
import { withFromImage } from '../dockerfile/from-lines.js';
import { baseRegistries } from '../engine/dockerfile-bases.js';
import type { Builder, BuildSecret, ContextSent, EngineClient, SshAgent } from '../engine/engine-client.js';
import type { EngineSetup } from '../engine/engine-setup.js';
import { ContextChangedError, EngineUnsupportedError, UsageError } from '../errors.js';
import { BASE_IMAGE_LABEL, COMPONENT_LABEL, INPUT_DIGEST_LABEL } from '../images/image-labels.js';
import type { JobContext } from '../jobs/dag.js';
import type { LocalDirs } from '../model/local-dirs.js';
import type { BuiltIdentity } from '../model/plan-entry.js';
import { authKeyOf } from '../names/docker-hub.js';
import type { PlannedBuild } from '../plan/planned-builds.js';
import type { RegistryAuth } from '../registry/credentials.js';
import { credentialValues } from '../text/credential-args.js';

/** Tag that points at a component's last BuildKit build in the registry: the layer cache of fresh engines. */
export const CACHE_TAG = 'buildcache';

/** How one component is built in this run. */
export interface BuildRecipe {
  /** Repository (`registry/path`) whose cache tag BuildKit may reuse layers from; with it, inline cache is embedded. */
  cacheRepository?: string;
  /** Credentials for a registry the build pulls from (or pushes to); `{serveraddress}` alone when there are none. */
  credentials: (registry: string) => Promise<RegistryAuth>;
  /** The registry images are pushed to: the classic builder gets its credentials too (the layer cache). */
  pushRegistry?: string;
  secrets: BuildSecret[];
  ssh: SshAgent[];
  /** The image the component starts from, for components with `from:`. */
  baseImage?: string;
  /** The digest of `<repository>:<tag>` when the registry has it: a platform image an earlier run pushed is not built again. */
  pushedImage?: (tag: string) => Promise<string | undefined>;
  sourceLabels: Record<string, string>;
  noCache: boolean;
  signal?: AbortSignal;
}

/** The engine one build runs on, with what it decided for builds. */
export interface BuildEngine {
  /** Its `engines:` entry; undefined for DOCKER_HOST's engine in a run without `engines:`. */
  host?: string;
  client: EngineClient;
  setup: EngineSetup;
  /** The build's platform is not one the engine builds natively. */
  emulated: boolean;
  /** The engine's version (asked once a run), for provenance. */
  version: () => Promise<string | undefined>;
}

/** Runs a build on an engine for a platform (undefined: the engine's own), holding one of its build slots. */
export type OnEngine = <T>(platform: string | undefined, work: (engine: BuildEngine) => Promise<T>) => Promise<T>;

/** What one build on one engine made. */
interface EngineBuild {
  imageId: string;
  /** The engine of `engines:` that built it (and holds it, for the push); undefined: DOCKER_HOST's. */
  host?: string;
  emulated?: true;
  /** Built with inline cache metadata (BuildKit, with a push target). */
  inlineCache: boolean;
  /** Which builder of which engine version built it, for provenance. */
  builder: Builder;
  engineVersion?: string;
}

/** One image of a build that spans several platforms: under the content tag a build of that platform alone has. */
export type PlatformImage = { platform: string; tag: string } & (EngineBuild | { digest: string });

/** What a build job made. */
export interface Built extends EngineBuild {
  baseImage?: string;
  /** A build of several platforms: each one's image (built here, or found in the registry), to be pushed and joined in an index. */
  platformImages?: PlatformImage[];
  ms: number;
  /** When the job started and finished building (ISO 8601). */
  startedOn: string;
  finishedOn: string;
}

export async function buildImage(entry: BuiltIdentity, planned: PlannedBuild, recipe: BuildRecipe, onEngine: OnEngine, ctx: JobContext): Promise<Built> {
  const t0 = Date.now();
  const times = () => ({ ms: Date.now() - t0, startedOn: new Date(t0).toISOString(), finishedOn: new Date().toISOString() });
  const made = recipe.baseImage ? { baseImage: recipe.baseImage } : {};
  const { platforms, platformBuilds } = planned;
  if (!platformBuilds) {
    const target = { tag: entry.contentTag, platform: platforms[0], inputDigest: entry.inputDigest };
    const one = await onEngine(target.platform, (engine) => buildOn(engine, entry, planned, recipe, ctx, target));
    return { ...one, ...made, ...times() };
  }
  const platformImages = await Promise.all(
    platformBuilds.map(async ({ platform, contentTag: tag, inputDigest }): Promise<PlatformImage> => {
      const digest = await recipe.pushedImage?.(tag);
      if (digest) {
        ctx.log(`${platform}: ${entry.repository}:${tag} is in the registry already (${digest})`);
        return { platform, tag, digest };
      }
      ctx.progress(`building for ${platform}`);
      return { platform, tag, ...(await onEngine(platform, (engine) => buildOn(engine, entry, planned, recipe, ctx, { tag, platform, inputDigest }))) };
    }),
  );
  const builds = platformImages.filter((p): p is PlatformImage & EngineBuild => 'imageId' in p);
  const first = builds[0];
  const by = first ? { builder: first.builder, ...(first.engineVersion ? { engineVersion: first.engineVersion } : {}) } : { builder: 'buildkit' as const };
  return { imageId: first?.imageId ?? '', inlineCache: builds.some((b) => b.inlineCache), ...by, ...made, platformImages, ...times() };
}

/** One build on `engine`: for `platform` (the engine's own when unset), tagged `<repository>:<tag>`. */
async function buildOn(
  engine: BuildEngine,
  entry: BuiltIdentity,
  planned: PlannedBuild,
  recipe: BuildRecipe,
  ctx: JobContext,
  target: { tag: string; platform: string | undefined; inputDigest: string },
): Promise<EngineBuild> {
  const { builder } = engine.setup;
  refuseMountsOnClassic(entry, planned, builder);
  if (builder === 'classic' && planned.platformBuilds) {
    throw new EngineUnsupportedError(
      `${entry.component} is built for ${planned.platforms.join(', ')}, but ${engine.host ?? 'the engine'} builds with the classic builder, which builds for one platform`,
      {
        hint: 'Build on an engine with BuildKit (API 1.39 or later on Linux).',
      },
    );
  }
  if (engine.emulated) ctx.log(`${target.platform}: built on ${engine.host}, emulated`);
  // The layer cache needs BuildKit: the classic builder neither reads nor writes inline cache.
  const cacheRepository = builder === 'buildkit' ? recipe.cacheRepository : undefined;
  const imageId = await buildFor(entry, planned, { ...recipe, cacheRepository }, engine, ctx, target);
  const engineVersion = await engine.version();
  return {
    imageId,
    ...(engine.host ? { host: engine.host } : {}),
    ...(engine.emulated ? { emulated: true as const } : {}),
    inlineCache: cacheRepository !== undefined,
    builder,
    ...(engineVersion ? { engineVersion } : {}),
  };
}

/** One build: for `platform` (the engine's own when unset), tagged `<repository>:<tag>`; its image ID. */
async function buildFor(
  entry: BuiltIdentity,
  planned: PlannedBuild,
  recipe: BuildRecipe,
  engine: BuildEngine,
  ctx: JobContext,
  target: { tag: string; platform: string | undefined; inputDigest: string },
): Promise<string> {
  const tag = `${entry.repository}:${target.tag}`;
  const { baseImage, cacheRepository } = recipe;
  const { builder } = engine.setup;
  const fileSync = builder === 'buildkit' && engine.setup.contextTransfer !== 'tar';
  const context = onFreshBase(planned, baseImage);
  const sent = await sendableContext(planned, context, builder, fileSync);
  const buildArgs = {
    ...planned.buildArgs,
    ...(baseImage ? { BASE_IMAGE: baseImage } : {}),
    ...(cacheRepository ? { BUILDKIT_INLINE_CACHE: '1' } : {}),
  };
  const pulls = builder === 'classic' ? await classicRegistryAuth(context.dockerfileContent.toString('utf8'), buildArgs, recipe) : undefined;
  const request = buildRequest({ entry, planned, recipe, engine: engine.setup, tag, sent, buildArgs, pulls, ctx, target });
  const building = engine.client.build(request);
  // A file that changed fails a FileSync transfer (and so the build): the change is what to report.
  const imageId = await building.catch((e: unknown) => {
    if (sent.changedEntries().length) return undefined;
    throw e;
  });
  const changed = sent.changedEntries();
  if (changed.length || imageId === undefined) {
    // The image holds other content than its content tag names: never leave that tag behind.
    await engine.client.removeImage(tag).catch(() => undefined);
    throw new ContextChangedError(`files changed while the build context was sent: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''}`, {
      hint: 'Re-run once nothing is writing into the component folder.',
    });
  }
  return imageId;
}

/** Secrets and SSH agents need BuildKit; the classic builder was chosen by the engine (a --builder classic the user gave is refused at load time). */
function refuseMountsOnClassic(entry: BuiltIdentity, planned: PlannedBuild, builder: Builder): void {
  const { secrets, ssh } = planned.component.build;
  if (builder !== 'classic' || (!secrets.length && !ssh.length)) return;
  throw new UsageError(
    `${entry.component} needs ${[...secrets.map((id) => `secret "${id}"`), ...ssh.map((id) => `SSH agent "${id}"`)].join(', ')}, which the classic builder cannot mount`,
    { hint: 'Build on an engine with BuildKit (API 1.39 or later on Linux).' },
  );
}

interface BuildRequestParts {
  entry: BuiltIdentity;
  planned: PlannedBuild;
  recipe: BuildRecipe;
  engine: EngineSetup;
  tag: string;
  sent: Awaited<ReturnType<typeof sendableContext>>;
  buildArgs: Record<string, string>;
  pulls: Record<string, RegistryAuth> | undefined;
  ctx: JobContext;
  /** The platform built (the engine's own when unset), and the input digest the image is labelled with. */
  target: { platform: string | undefined; inputDigest: string };
}

/** What the engine is asked to build: context, args, labels, cache, session, and where progress goes. */
function buildRequest({ entry, planned, recipe, engine, tag, sent, buildArgs, pulls, ctx, target }: BuildRequestParts): Parameters<EngineClient['build']>[0] {
  const { builder } = engine;
  const network = planned.component.build.network ?? engine.network;
  const { baseImage, cacheRepository } = recipe;
  return {
    name: entry.component,
    context: sent.context,
    dockerfile: sent.dockerfile,
    tags: [tag],
    buildArgs,
    redact: credentialValues(buildArgs),
    builder,
    ...(network ? { network } : {}),
    ...(planned.component.build.target ? { target: planned.component.build.target } : {}),
    ...(cacheRepository ? { cacheFrom: [`${cacheRepository}:${CACHE_TAG}`] } : {}),
    ...(pulls ? { registryAuth: pulls } : {}),
    ...(builder === 'buildkit' ? { session: buildSession(planned, recipe, ctx, target.platform) } : {}),
    ...(target.platform ? { platform: target.platform } : {}),
    labels: {
      ...recipe.sourceLabels,
      [INPUT_DIGEST_LABEL]: target.inputDigest,
      [COMPONENT_LABEL]: entry.component,
      ...(baseImage ? { [BASE_IMAGE_LABEL]: baseImage } : {}),
    },
    noCache: recipe.noCache,
    onLog: (line) => ctx.log(line),
    onStep: (step) => {
      ctx.report({
        type: 'build-step',
        step: step.name,
        state: step.state,
        ...(step.seconds !== undefined ? { seconds: step.seconds } : {}),
        ...(step.error ? { error: step.error } : {}),
      });
      if (step.state === 'started') ctx.progress(step.name);
      else if (step.state === 'cached') ctx.progress(`CACHED ${step.name}`);
    },
    signal: recipe.signal,
  };
}

/** What a BuildKit build's session serves: credentials, secrets, SSH agents, and (through FileSync) the context. */
function buildSession(planned: PlannedBuild, recipe: BuildRecipe, ctx: JobContext, platform: string | undefined) {
  return {
    // Builds of several platforms at once each keep their own copy of the context in the engine.
    sharedKey: sharedKey(planned.component.build.contextDir + (planned.platformBuilds && platform ? `\0${platform}` : '')),
    credentials: async (registry: string) => recipe.credentials(registry),
    secrets: recipe.secrets,
    ssh: recipe.ssh,
    onContextSent: (c: ContextSent) => {
      ctx.log(`context: ${c.dir} sent through FileSync, ${c.files} of ${c.entries} entries asked for, ${c.bytes} bytes`);
    },
  };
}

/**
 * The context with the Dockerfile the build reads: FROM lines that name the base's image are built on
 * the image made for it in this run (`baseImage`, pinned), never on an engine image of that name. The
 * Dockerfile as written stays what the input digest hashed (with the base's digest chained in); a
 * rewritten one is sent beside the context, as a Dockerfile from outside it is.
 */
function onFreshBase(planned: PlannedBuild, baseImage: string | undefined): BuildContext {
  const lines = planned.component.baseFromLines;
  if (!baseImage || !lines?.length) return planned.context;
  const dockerfile = withFromImage(planned.context.dockerfileContent.toString('utf8'), lines, baseImage);
  return { ...planned.context, dockerfileContent: Buffer.from(dockerfile), dockerfileInContext: undefined };
}

/** The context as the build reads it: FileSync's folders, or the tar body. */
async function sendableContext(
  planned: PlannedBuild,
  context: BuildContext,
  builder: Builder,
  fileSync: boolean,
): Promise<{ context: Readable | LocalDirs; dockerfile: string; changedEntries(): string[] }> {
  // Loaded here: a run that builds nothing never loads the tar writer or the FileSync folders.
  if (fileSync) {
    const { createContextDirs } = await import('../context/context-sync.js');
    const dirs = createContextDirs(context, basename(planned.component.build.dockerfilePath));
    return { context: dirs, dockerfile: dirs.dockerfile, changedEntries: () => dirs.changedEntries() };
  }
  const { createContextTar } = await import('../context/context-tar.js');
  const tar = createContextTar(context, builder);
  return { context: tar.stream, dockerfile: tar.dockerfile, changedEntries: () => tar.changedEntries() };
}

/** The classic builder asks for no credentials: it gets those of every registry its FROM lines pull from, up front. */
async function classicRegistryAuth(dockerfile: string, buildArgs: Record<string, string>, recipe: BuildRecipe): Promise<Record<string, RegistryAuth>> {
  const registries = baseRegistries(dockerfile, buildArgs);
  if (recipe.pushRegistry && !registries.includes(recipe.pushRegistry)) registries.push(recipe.pushRegistry);
  const auth: Record<string, RegistryAuth> = {};
  for (const registry of registries) {
    const found = await recipe.credentials(registry);
    if (found.username || found.identitytoken) auth[authKeyOf(registry)] = found;
  }
  return auth;
}

/** Stable per context folder on this machine, as the docker CLI derives its own. */
function sharedKey(contextDir: string): string {
  return createHash('sha256').update(`helmet-build:${hostname()}:${contextDir}`).digest('hex');
}
