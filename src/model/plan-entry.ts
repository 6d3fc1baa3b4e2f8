/**
 * The plan as data: per component, one state holding exactly the fields that state has. This is
 * the documented shape `plan --json` prints (README, "plan --json").
 */
import type { ErrorRecord } from '../errors.js';
import type { BuiltPin, LocalPin, RegistryPin, TagPin } from './pin.js';

/** Version of the `plan --json` document; bumped on any incompatible change to its shape. */
export const PLAN_FORMAT_VERSION = 1;

interface EntryBase {
  component: string;
  /** Part of the selection; unselected entries are only looked up (for the pipeline spec). */
  selected: boolean;
}

/** What names the image of a component helmet-build builds; known before any lookup. */
export interface BuiltIdentity extends EntryBase {
  kind: 'built';
  /** The component it starts from. */
  base?: string;
  inputDigest: string;
  /** `<registry>/<path>` with --push, else the local image name. */
  repository: string;
  contentTag: string;
  /** The platforms it is built for, when they are given (none: the engine's own). */
  platforms?: string[];
}

/** The lookup failed, or was interrupted. */
export interface UnknownState {
  state: 'unknown';
  error: ErrorRecord;
}

export type BuiltState =
  /** The image for the current inputs exists and carries every requested tag. */
  | ({ state: 'up-to-date' } & BuiltPin)
  /** The image exists; these requested tags do not point at it yet. */
  | ({ state: 'needs-tag'; missingTags: string[] } & BuiltPin)
  /** The engine has the image for the current inputs; the registry does not. */
  | { state: 'needs-push'; imageId: string }
  /** No image for the current inputs. `changes` says what differs from the last recorded build, when there is one. */
  | { state: 'needs-build'; reason: string; changes?: string[] }
  /** It needs a build, but a component it starts from cannot provide an image. */
  | { state: 'blocked'; by: string[]; reason: string }
  | UnknownState;

export type BuiltEntry = BuiltIdentity & BuiltState;

/** A component without `build:`: its image is used as written, pinned when the registry resolves it. */
export interface PrebuiltIdentity extends EntryBase {
  kind: 'prebuilt';
  /** `<registry>/<repository>` of its image. */
  repository: string;
  /** The component (or `images:` entry) built here whose image its `image:` line names: pinned to that image. */
  imageOf?: string;
}

export type PrebuiltState =
  /** Pinned: by the registry's digest, or to the image built here that it names (which exists already). */
  | ({ state: 'up-to-date' } & (RegistryPin | TagPin | LocalPin))
  /** It names an image that this run builds for `imageOf`: pinned to what that build makes. */
  | { state: 'pinned-after-build' }
  /** It names an image built here that cannot be made. */
  | { state: 'blocked'; by: string[]; reason: string }
  | UnknownState;

export type PrebuiltEntry = PrebuiltIdentity & PrebuiltState;

export type PlanEntry = BuiltEntry | PrebuiltEntry;

export type PlanState = PlanEntry['state'];
