/**
 * The digest half of the plan: per built component, its context walked and hashed, its build args
 * and platforms resolved, and its input digest chained on its base's — and with several platforms,
 * each platform's own digest and content tag.
 */
import { join } from 'node:path';
import { type BuildContext, readBuildContext } from '../context/build-context.js';
import { type DigestInputs, type InputRecord, inputRecord, inputTag } from '../context/input-digest.js';
import { CACHE_DIR, StatCache } from '../context/stat-cache.js';
import type { EventListener } from '../events.js';
import type { BuiltComponent, Component, Project } from '../project/model.js';
import { platformsOf } from '../project/platform-needs.js';
import { credentialLooking, maskCredentialArgs, maskedValue } from '../text/credential-args.js';
import type { RunSettings } from './run-settings.js';

/** What the later phases need beside the entry: the walked context and the build args. */
export interface PlannedBuild {
  component: BuiltComponent;
  context: BuildContext;
  /** Component args, then --build-arg, then per-component --build-arg; BASE_IMAGE is added at build time. */
  buildArgs: Record<string, string>;
  /** Sorted; empty: the engine's own. More than one: each built on its own, joined in one image index. */
  platforms: string[];
  /** With more than one platform: each one's build, under the content tag a build of that platform alone has. */
  platformBuilds?: PlatformBuild[];
  inputs: InputRecord;
}

export interface PlatformBuild {
  platform: string;
  inputDigest: string;
  contentTag: string;
}

/**
 * Input digests, bases before dependants: a dependant's digest chains on its base's. Each is handed
 * to `digested` as soon as it is known, and the event loop gets a turn between components, so that
 * lookups already sent make progress while the rest is hashed.
 */
export async function digestBuilds(
  project: Project,
  components: Component[],
  settings: Pick<RunSettings, 'buildArgs' | 'componentBuildArgs' | 'platforms' | 'localPlatform'>,
  onEvent: EventListener,
  digested: (c: BuiltComponent, planned: PlannedBuild) => void,
): Promise<Map<string, PlannedBuild>> {
  const builds = new Map<string, PlannedBuild>();
  const statCache = StatCache.open(project.root);
  const cacheDir = join(project.root, CACHE_DIR);
  for (const c of components) {
    if (c.kind !== 'built') continue;
    if (builds.size > 0) await new Promise(setImmediate);
    const buildArgs = { ...c.build.args, ...settings.buildArgs, ...settings.componentBuildArgs[c.name] };
    if (c.base) delete buildArgs.BASE_IMAGE;
    const context = readBuildContext(c.build.contextDir, c.build.dockerfilePath, { hasher: statCache, exclude: [cacheDir], add: c.build.add });
    const base = c.base ? builds.get(c.base.name) : undefined;
    warnCredentialArgs(c, buildArgs, onEvent);
    const platforms = platformsOf(c, settings.platforms, settings.localPlatform);
    const digestInputs = {
      context,
      // Credential-looking values enter the digest and the record as their hash only.
      buildArgs: maskCredentialArgs(buildArgs),
      target: c.build.target,
      // A build for one platform starts from its base's image of that platform.
      baseInputDigest: platforms.length === 1 ? platformDigestOf(base, platforms[0]!) : base?.inputs.inputDigest,
      secrets: c.build.secrets,
      ssh: c.build.ssh,
    };
    // One platform hashes as `platform:` always did; a set as its sorted list.
    const inputs = inputRecord({ ...digestInputs, platform: platforms.length ? platforms.join(',') : undefined });
    const planned: PlannedBuild = { component: c, context, buildArgs, platforms, inputs };
    if (platforms.length > 1) planned.platformBuilds = platformBuilds(platforms, digestInputs, base);
    builds.set(c.name, planned);
    digested(c, planned);
  }
  const unsaved = statCache.save();
  if (unsaved) onEvent({ type: 'warning', message: `the stat cache was not saved (${unsaved.message}); the next run reads every file again` });
  return builds;
}

/**
 * Each platform's own input digest and content tag: those a build for that platform alone would
 * have (chained on the base's image of the same platform), so an image one run built for a platform
 * serves every later set that includes it.
 */
function platformBuilds(platforms: string[], inputs: Omit<DigestInputs, 'platform'>, base: PlannedBuild | undefined): PlatformBuild[] {
  return platforms.map((platform) => {
    const { inputDigest } = inputRecord({ ...inputs, platform, baseInputDigest: platformDigestOf(base, platform) });
    return { platform, inputDigest, contentTag: inputTag(inputDigest) };
  });
}

/** The input digest of `base`'s image for `platform`: its own for that platform when it is built for several. */
function platformDigestOf(base: PlannedBuild | undefined, platform: string): string | undefined {
  return base?.platformBuilds?.find((b) => b.platform === platform)?.inputDigest ?? base?.inputs.inputDigest;
}

/** A build arg that looks like a credential ends up in the image's history: say so, and point to --secret. */
function warnCredentialArgs(c: BuiltComponent, buildArgs: Record<string, string>, onEvent: EventListener): void {
  for (const [name, value] of Object.entries(buildArgs)) {
    const why = credentialLooking(name, value);
    if (!why) continue;
    onEvent({
      type: 'warning',
      subject: c.name,
      message: `build arg ${name} looks like a credential (${why === 'name' ? 'its name' : 'a URL with a password'}): shown and recorded as ${maskedValue(value)}, but a RUN that uses it keeps it in the image's history; pass it with --secret id=${name.toLowerCase()},env=VAR and RUN --mount=type=secret instead`,
    });
  }
}
