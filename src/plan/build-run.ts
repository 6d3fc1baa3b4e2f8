import { cpus } from 'node:os';
import { readBuildContext } from '../context/build-context.js';
import { createContextTar } from '../context/context-tar.js';
import { computeInputDigest, inputTag } from '../context/input-digest.js';
import type { EngineClient } from '../engine/engine-client.js';
import {
  BuildFailedError,
  ContextChangedError,
  DependencyFailedError,
  DigestMismatchError,
  InterruptedError,
  NotBuiltError,
  UsageError,
  errorMessage,
  worstExitCode,
  isHelmetError,
  type HelmetError,
} from '../errors.js';
import type { BuildAction, EventListener } from '../events.js';
import { ignoreEvents } from '../events.js';
import { writeRunOutputs } from '../output/run-outputs.js';
import { hasPipeline, loadPipeline } from '../project/pipeline.js';
import { loadProject, selectComponents, type Component } from '../project/project.js';
import { engineAuth, type CredentialSource } from '../registry/credentials.js';
import { parseImageRef, parsePushTarget } from '../registry/image-ref.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { planWork, type Mode } from './build-graph.js';
import { Limiter } from './limiter.js';

export const INPUT_DIGEST_LABEL = 'io.helmet.input-digest';
export const COMPONENT_LABEL = 'io.helmet.component';

export interface BuildOptions {
  /** Project root (folder with components/). */
  root: string;
  /** Component names; empty = all. */
  components?: string[];
  /** `<registry>[/<prefix>]` to push to; without it images stay local. */
  push?: string;
  /** Extra tags besides the input-digest tag. */
  tags?: string[];
  /** Build args for every component, overriding component.yaml. */
  buildArgs?: Record<string, string>;
  /** Build args per component name, overriding the global ones. */
  componentBuildArgs?: Record<string, Record<string, string>>;
  /** @default number of CPUs */
  concurrency?: number;
  noCache?: boolean;
  /** Output folder. @default `<root>/dist` */
  outDir?: string;
  /** Image labels describing the source (git remote, revision); asked for only when something is built. */
  sourceLabels?: () => Promise<Record<string, string>>;
  /** Write specs and build.json. @default true */
  writeOutputs?: boolean;
  /**
   * Build nothing. `resolve`: pin the images already there for the current inputs, failing where
   * there is none (`helmet-build emit`). `plan`: report what is up to date and what would be built.
   */
  resolveOnly?: 'resolve' | 'plan';
  signal?: AbortSignal;
}



export interface ComponentResult {
  component: string;
  action: BuildAction;
  /** The reference written into the spec. */
  image?: string;
  /** How `image` is pinned. */
  pinnedBy?: 'registry-digest' | 'local-image-id' | 'tag';
  repository?: string;
  tags: string[];
  digest?: string;
  imageId?: string;
  inputDigest?: string;
  durations: { contextMs?: number; buildMs?: number; pushMs?: number; totalMs: number };
  error?: { code: string; exitCode: number; message: string; hint?: string; detail?: string[] };
}

export interface BuildRunResult {
  ok: boolean;
  push?: string;
  startedAt: string;
  results: ComponentResult[];
  /** Files written, relative to the project root. */
  written: string[];
  /** 0 when every component succeeded; otherwise the documented exit code of the worst failure. */
  exitCode: number;
}

export interface BuildDeps {
  engine: EngineClient;
  registry: RegistryClient;
  credentials: CredentialSource;
  onEvent?: EventListener;
}

/**
 * Build (and push) components, pin their images, write specs and build.json.
 * Failures of one component do not stop the others; dependants of a failed base are not built.
 */
export class BuildRun {
  private readonly emit: EventListener;
  /** Asked once, and only when something must be built: a no-op run is registry lookups alone. */
  private engineReady?: Promise<void>;
  private labels?: Promise<Record<string, string>>;

  constructor(private readonly deps: BuildDeps) {
    this.emit = deps.onEvent ?? ignoreEvents;
  }

  async run(options: BuildOptions): Promise<BuildRunResult> {
    const startedAt = new Date().toISOString();
    const project = loadProject(options.root);
    const selected = selectComponents(project, options.components ?? []);
    const target = options.push ? parsePushTarget(options.push) : undefined;
    const componentArgs = options.componentBuildArgs ?? {};
    const unknownArgTargets = Object.keys(componentArgs).filter((n) => !project.components.some((c) => c.name === n));
    if (unknownArgTargets.length) {
      throw new UsageError(`--build-arg names unknown component(s): ${unknownArgTargets.join(', ')}`);
    }
    const pipeline = hasPipeline(project.root) ? loadPipeline(project) : undefined;
    const selectedMode = options.resolveOnly === 'resolve' ? 'resolve' : options.resolveOnly === 'plan' ? 'resolve-if-present' : 'build';
    const dryRun = options.resolveOnly === 'plan';
    // A dry run looks at the selection only; a real run also looks up the pipeline's other images.
    const work = planWork(project.components, selected, { selectedMode, pipeline: dryRun ? undefined : pipeline, pushing: target !== undefined });
    const reported = dryRun ? work : work.filter((w) => w.mode !== 'resolve-if-present');
    this.emit({ type: 'plan', components: reported.map((w) => w.component.name), push: options.push });
    this.engineReady = undefined;
    this.labels = undefined;

    const limiter = new Limiter(options.concurrency ?? Math.max(1, cpus().length));
    const pending = new Map<string, Promise<ComponentResult>>();
    for (const { component: c, mode } of work) {
      const base = c.build?.from ? pending.get(c.build.from) : undefined;
      pending.set(
        c.name,
        (async () => {
          const baseResult = base ? await base : undefined;
          return limiter.run(() => this.processComponent(c, mode, baseResult, target, options));
        })(),
      );
    }
    const results = await Promise.all(work.map((w) => pending.get(w.component.name)!));
    const written =
      options.writeOutputs === false || dryRun
        ? []
        : writeRunOutputs({ project, pipeline, results, push: options.push, outDir: options.outDir, startedAt, onEvent: this.emit });
    const exitCodes = results.flatMap((r) => (r.error ? [r.error.exitCode] : []));
    return { ok: exitCodes.length === 0, push: options.push, startedAt, results, written, exitCode: worstExitCode(exitCodes) };
  }

  /** The engine is pinged once per run, on first need. */
  private engineUp(): Promise<void> {
    this.engineReady ??= this.deps.engine.ping();
    return this.engineReady;
  }

  private async processComponent(
    c: Component,
    mode: Mode,
    base: ComponentResult | undefined,
    target: { registry: string; prefix: string } | undefined,
    options: BuildOptions,
  ): Promise<ComponentResult> {
    const started = Date.now();
    const result: ComponentResult = { component: c.name, action: 'failed', tags: [], durations: { totalMs: 0 } };
    try {
      if (options.signal?.aborted) throw new InterruptedError('interrupted before this component started');
      if (base && (base.error || !base.image)) {
        if (base.error || mode !== 'resolve-if-present') {
          throw new DependencyFailedError(`not built: the component it starts from, ${base.component}, ${base.error ? 'failed' : 'has no image'}`);
        }
        result.action = 'skipped';
        this.emit({ type: 'needs-build', component: c.name, reason: `the component it starts from, ${base.component}, needs a build` });
      } else if (!c.build) await this.resolvePrebuilt(c, result);
      else await this.buildComponent(c, mode, base, target, options, result);
      if (result.image) this.emit({ type: 'component-done', component: c.name, action: result.action, image: result.image });
    } catch (e) {
      const err = options.signal?.aborted ? new InterruptedError('interrupted', { cause: e }) : toHelmetError(e, c.name);
      result.action = 'failed';
      result.error = {
        code: err.code,
        exitCode: err.exitCode,
        message: err.message,
        hint: err.hint,
        detail: err instanceof BuildFailedError ? err.logTail : undefined,
      };
      this.emit({ type: 'component-failed', component: c.name, code: err.code, message: err.message, hint: err.hint, detail: result.error.detail });
    }
    result.durations.totalMs = Date.now() - started;
    return result;
  }

  /** A component without build: keeps its image, pinned to the registry's digest when it can be resolved. */
  private async resolvePrebuilt(c: Component, result: ComponentResult): Promise<void> {
    const image = c.spec.implementation.container.image!;
    const ref = parseImageRef(image);
    result.action = 'reused';
    result.repository = `${ref.registry}/${ref.repository}`;
    if (ref.digest) {
      Object.assign(result, { image, digest: ref.digest, pinnedBy: 'registry-digest' });
      return;
    }
    try {
      const digest = await this.deps.registry.manifestDigest(ref.registry, ref.repository, ref.tag ?? 'latest');
      if (digest) {
        Object.assign(result, { image: `${image.replace(/:[^:/]+$/, '')}@${digest}`, digest, pinnedBy: 'registry-digest' });
        return;
      }
    } catch (e) {
      this.emit({ type: 'warning', component: c.name, message: `cannot pin ${image} to a digest: ${errorMessage(e)}; using the tag` });
    }
    Object.assign(result, { image, pinnedBy: 'tag' });
  }

  private async buildComponent(
    c: Component,
    mode: Mode,
    base: ComponentResult | undefined,
    target: { registry: string; prefix: string } | undefined,
    options: BuildOptions,
    result: ComponentResult,
  ): Promise<void> {
    const build = c.build!;
    const t0 = Date.now();
    const context = readBuildContext(build.contextDir, build.dockerfilePath);
    const buildArgs: Record<string, string> = {
      ...build.args,
      ...options.buildArgs,
      ...options.componentBuildArgs?.[c.name],
      ...(base ? { BASE_IMAGE: base.image! } : {}),
    };
    const inputDigest = computeInputDigest({
      context,
      buildArgs,
      platform: build.platform,
      baseImages: base ? [base.digest ?? base.imageId!] : [],
    });
    result.inputDigest = inputDigest;
    result.durations.contextMs = Date.now() - t0;
    this.emit({ type: 'context', component: c.name, files: context.entries.length, bytes: context.bytes, inputDigest });

    const repository = target ? `${target.registry}/${target.prefix ? `${target.prefix}/` : ''}${build.image}` : build.image;
    const contentTag = inputTag(inputDigest);
    const tags = [contentTag, ...(options.tags ?? [])];
    result.repository = repository;
    result.tags = tags;

    const canReuse = mode !== 'build' || !options.noCache;
    if (canReuse && (await this.reuse(c, result, target, repository, tags, inputDigest))) return;
    if (mode === 'resolve') {
      throw new NotBuiltError(`no image for the current inputs of ${c.name} (${repository}:${contentTag})`, {
        hint: `Build it first: helmet-build build ${c.name}${options.push ? ` --push ${options.push}` : ''}`,
      });
    }
    if (mode === 'resolve-if-present') {
      result.action = 'skipped';
      this.emit({ type: 'needs-build', component: c.name, reason: `no image for its current inputs (${repository}:${contentTag} ${target ? 'is not in the registry' : 'is not in the engine'})` });
      return;
    }

    this.labels ??= options.sourceLabels?.() ?? Promise.resolve({});
    const [, sourceLabels] = await Promise.all([this.engineUp(), this.labels]);
    const tb = Date.now();
    const tar = createContextTar(context);
    this.emit({ type: 'build-start', component: c.name, tags: tags.map((t) => `${repository}:${t}`) });
    const imageId = await this.deps.engine.build({
      name: c.name,
      context: tar.stream,
      dockerfile: tar.dockerfile,
      tags: tags.map((t) => `${repository}:${t}`),
      buildArgs,
      labels: {
        ...sourceLabels,
        [INPUT_DIGEST_LABEL]: inputDigest,
        [COMPONENT_LABEL]: c.name,
      },
      noCache: options.noCache,
      platform: build.platform,
      onLog: (line) => this.emit({ type: 'build-log', component: c.name, line }),
      signal: options.signal,
    });
    const changed = tar.changedEntries();
    if (changed.length) {
      // The image holds other content than its content tag names: never leave that tag behind.
      for (const t of tags) await this.deps.engine.removeImage(`${repository}:${t}`).catch(() => undefined);
      throw new ContextChangedError(`files changed while the build context was sent: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''}`, {
        hint: 'Re-run once nothing is writing into the component folder.',
      });
    }
    result.imageId = imageId;
    result.durations.buildMs = Date.now() - tb;
    this.emit({ type: 'built', component: c.name, imageId, seconds: result.durations.buildMs / 1000 });

    if (!target) {
      Object.assign(result, { action: 'built', image: imageId, pinnedBy: 'local-image-id' });
      return;
    }
    const tp = Date.now();
    const auth = engineAuth(target.registry, await this.deps.credentials.get(target.registry));
    let digest: string | undefined;
    for (const tag of tags) {
      this.emit({ type: 'push-start', component: c.name, ref: `${repository}:${tag}` });
      const pushed = await this.deps.engine.push({ repository, tag, auth });
      digest ??= pushed;
      if (pushed !== digest) throw new DigestMismatchError(`push of ${repository}:${tag} reported ${pushed}, expected ${digest}`);
    }
    const repoPath = repository.slice(target.registry.length + 1);
    const confirmed = await this.deps.registry.manifestDigest(target.registry, repoPath, contentTag);
    if (confirmed !== digest) {
      throw new DigestMismatchError(
        `the engine pushed ${repository}:${contentTag} as ${digest}, but the registry reports ${confirmed ?? 'no such tag'}`,
        { hint: 'Another writer may be pushing the same tag; re-run, and check the registry.' },
      );
    }
    result.durations.pushMs = Date.now() - tp;
    Object.assign(result, { action: 'pushed', digest, image: `${repository}@${digest}`, pinnedBy: 'registry-digest' });
    this.emit({ type: 'pushed', component: c.name, ref: `${repository}@${digest}`, digest: digest!, seconds: result.durations.pushMs / 1000 });
  }

  /** The content-addressed tag makes "already built" a lookup: in the registry, or in the engine. */
  private async reuse(
    c: Component,
    result: ComponentResult,
    target: { registry: string; prefix: string } | undefined,
    repository: string,
    tags: string[],
    inputDigest: string,
  ): Promise<boolean> {
    const [contentTag, ...extraTags] = tags as [string, ...string[]];
    if (target) {
      const repoPath = repository.slice(target.registry.length + 1);
      const digest = await this.deps.registry.manifestDigest(target.registry, repoPath, contentTag);
      if (!digest) return false;
      for (const tag of extraTags) await this.deps.registry.copyTag(target.registry, repoPath, contentTag, tag);
      Object.assign(result, { action: 'reused', digest, image: `${repository}@${digest}`, pinnedBy: 'registry-digest' });
      this.emit({ type: 'cached', component: c.name, ref: `${repository}:${contentTag}`, where: 'registry' });
      return true;
    }
    await this.engineUp();
    const local = await this.deps.engine.inspectImage(`${repository}:${contentTag}`);
    if (!local || local.labels[INPUT_DIGEST_LABEL] !== inputDigest) return false;
    for (const tag of extraTags) await this.deps.engine.tag(local.id, repository, tag);
    Object.assign(result, { action: 'reused', imageId: local.id, image: local.id, pinnedBy: 'local-image-id' });
    this.emit({ type: 'cached', component: c.name, ref: `${repository}:${contentTag}`, where: 'local' });
    return true;
  }


}

function toHelmetError(e: unknown, component: string): HelmetError {
  if (isHelmetError(e)) return e;
  return new BuildFailedError(component, errorMessage(e), []);
}

