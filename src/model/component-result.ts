/**
 * What became of one component in a run: the record build.json keeps, and the exit code is made
 * from. Each action holds exactly its fields: a built or pushed image has its ID and pin, a failure
 * its error.
 */
import type { ErrorRecord } from '../errors.js';
import type { LocalPin, Pin, RegistryPin } from './pin.js';

interface ResultBase {
  component: string;
  /** `<registry>/<path>` of its image (or the local image name without --push). */
  repository: string;
  /** Tags that point at the image: the content tag, and the user tags once they were moved. */
  tags: string[];
  /** For components helmet-build builds. */
  inputDigest?: string;
  durations: { buildMs?: number; pushMs?: number };
}

/** What a build made, beside the pin. */
interface BuiltImage {
  imageId: string;
  /** The image it was built from, for components with `from:`. */
  baseImage?: string;
  /** With `engines:`: the engine of each build (per platform, for several), and whether it emulated the platform. */
  builtOn?: EngineRecord[];
}

export interface EngineRecord {
  engine: string;
  platform?: string;
  emulated?: true;
}

/** Built here, not pushed (no --push). */
export type BuiltResult = ResultBase & BuiltImage & { action: 'built' } & LocalPin;

/** Pushed (built now, or earlier on this engine). */
export type PushedResult = ResultBase & Partial<BuiltImage> & { action: 'pushed' } & RegistryPin;

/** The image for the current inputs already existed. */
export type ReusedResult = ResultBase & { action: 'reused'; imageId?: string } & Pin;

export type SucceededResult = BuiltResult | PushedResult | ReusedResult;

/** It failed, or could not be built because a component it starts from did not succeed. */
export interface FailedResult extends ResultBase {
  action: 'failed' | 'blocked';
  error: ErrorRecord;
}

export type ComponentResult = SucceededResult | FailedResult;

export type ComponentAction = ComponentResult['action'];

export function succeeded(result: ComponentResult): result is SucceededResult {
  return result.action !== 'failed' && result.action !== 'blocked';
}

/** A succeeded result turned failed by what came after (a record not written, a tag not moved): its identity kept, its pin dropped. */
export function failedAfter(result: SucceededResult, error: ErrorRecord): FailedResult {
  const { component, repository, tags, inputDigest, durations } = result;
  return { component, repository, tags, ...(inputDigest ? { inputDigest } : {}), durations, action: 'failed', error };
}

export function allSucceeded(results: ComponentResult[]): results is SucceededResult[] {
  return results.every(succeeded);
}
