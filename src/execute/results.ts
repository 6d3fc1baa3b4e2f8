/** A component's result, derived from its plan entry and what its jobs made (or why they did not succeed). */
import { DependencyFailedError, errorRecord, InterruptedError } from '../errors.js';
import type { JobReport } from '../jobs/dag.js';
import { type ComponentResult, type EngineRecord, type FailedResult, type SucceededResult, succeeded } from '../model/component-result.js';
import { pinOf } from '../model/pin.js';
import type { PlanEntry, PrebuiltEntry } from '../model/plan-entry.js';
import type { Built } from './build-job.js';
import type { Pushed } from './push-job.js';

/** A prebuilt component that names an image this run builds. */
export type FollowingEntry = Extract<PrebuiltEntry, { state: 'pinned-after-build' }>;

/** A prebuilt component pinned to the image this run made for the component it names (or not, when that failed). */
export function followedResult(entry: FollowingEntry, made: ComponentResult | undefined): ComponentResult {
  if (!made || !succeeded(made)) {
    return failedResult(entry, 'blocked', errorRecord(new DependencyFailedError(`not pinned: ${entry.imageOf}, whose image it names, was not made`)));
  }
  return { ...resultBase(entry), durations: {}, action: 'reused', ...pinOf(made) };
}

/** An entry whose image exists already. */
export type ReadyEntry = Extract<PlanEntry, { state: 'up-to-date' | 'needs-tag' }>;

/** The fields every result of `entry` has. */
function resultBase(entry: PlanEntry) {
  return {
    component: entry.component,
    repository: entry.repository,
    tags: entry.kind === 'built' ? [entry.contentTag] : [],
    ...(entry.kind === 'built' ? { inputDigest: entry.inputDigest } : {}),
  };
}

/** The image existed: nothing was built or pushed. */
export function reusedResult(entry: ReadyEntry): SucceededResult {
  const pin = pinOf(entry);
  return { ...resultBase(entry), durations: {}, action: 'reused', ...(pin.pinnedBy === 'local-image-id' ? { imageId: pin.image } : {}), ...pin };
}

/** Built now (and pushed, when there is a push). */
export function madeResult(
  entry: Extract<PlanEntry, { state: 'needs-build' | 'needs-push' }>,
  built: Built | undefined,
  pushed: Pushed | undefined,
): SucceededResult {
  const durations = { ...(built ? { buildMs: built.ms } : {}), ...(pushed ? { pushMs: pushed.ms } : {}) };
  const imageId = built?.imageId ?? (entry.state === 'needs-push' ? entry.imageId : undefined);
  const builtOn = built ? enginesOf(built) : [];
  const made = { ...resultBase(entry), durations, ...(built?.baseImage ? { baseImage: built.baseImage } : {}), ...(builtOn.length ? { builtOn } : {}) };
  if (pushed) {
    const platforms = pushed.platformDigests ? { platformDigests: pushed.platformDigests } : {};
    return {
      ...made,
      ...(imageId ? { imageId } : {}),
      action: 'pushed',
      pinnedBy: 'registry-digest',
      image: pushed.image,
      digest: pushed.digest,
      ...platforms,
    };
  }
  if (built) return { ...made, imageId: built.imageId, action: 'built', pinnedBy: 'local-image-id', image: built.imageId };
  throw new Error(`no job made an image for ${entry.component}`);
}

/** The engines of `engines:` that made an image, per platform. */
function enginesOf(built: Built): EngineRecord[] {
  const one = (b: { host?: string; emulated?: true }, platform?: string): EngineRecord[] =>
    b.host ? [{ engine: b.host, ...(platform ? { platform } : {}), ...(b.emulated ? { emulated: true } : {}) }] : [];
  if (!built.platformImages) return one(built);
  return built.platformImages.flatMap((p) => ('imageId' in p ? one(p, p.platform) : []));
}

export function failedResult(entry: PlanEntry, action: FailedResult['action'], error: FailedResult['error']): FailedResult {
  return { ...resultBase(entry), durations: {}, action, error };
}

/** Why a component's jobs did not succeed, from their reports in order; undefined when they all did. */
export function jobsFailure<R>(entry: PlanEntry, reports: JobReport<R>[], signal: AbortSignal | undefined): ComponentResult | undefined {
  for (const report of reports) {
    if (report.outcome === 'succeeded') continue;
    if (report.outcome === 'failed') return failedResult(entry, 'failed', errorRecord(report.error));
    if (report.reason.kind === 'interrupted' || signal?.aborted)
      return failedResult(entry, 'failed', errorRecord(new InterruptedError('interrupted before it started')));
    const base = entry.kind === 'built' ? entry.base : undefined;
    return failedResult(entry, 'blocked', errorRecord(new DependencyFailedError(`not built: the component it starts from, ${base}, failed`)));
  }
  return undefined;
}

/** The result of an entry the plan already failed (its lookup) or blocked (its base could not be looked up). */
export function plannedFailure(entry: Extract<PlanEntry, { state: 'unknown' | 'blocked' }>): FailedResult {
  return entry.state === 'unknown'
    ? failedResult(entry, 'failed', entry.error)
    : failedResult(entry, 'blocked', errorRecord(new DependencyFailedError(`not built: ${entry.reason}`)));
}
