/** The plan as data: the documented shape `plan --json` prints (README, "plan --json"). */
import type { ErrorRecord } from '../errors.js';

/** Version of the `plan --json` document; bumped on any incompatible change to its shape. */
export const PLAN_FORMAT_VERSION = 1;

export type PlanState =
  /** The image for the current inputs exists and carries every requested tag. */
  | { state: 'up-to-date' }
  /** The image exists; these requested tags do not point at it yet. */
  | { state: 'needs-tag'; missingTags: string[] }
  /** The engine has the image for the current inputs; the registry does not. */
  | { state: 'needs-push'; imageId: string }
  /** No image for the current inputs. `changes` says what differs from the last recorded build, when there is one. */
  | { state: 'needs-build'; reason: string; changes?: string[] }
  /** It needs a build, but a component it starts from cannot provide an image. */
  | { state: 'blocked'; by: string[]; reason: string }
  /** The lookup itself failed. */
  | { state: 'unknown'; error: ErrorRecord };

export type PlanEntry = PlanState & {
  component: string;
  kind: 'built' | 'prebuilt';
  /** Part of the selection; unselected entries are only looked up (for the pipeline spec). */
  selected: boolean;
  /** The component it starts from. */
  base?: string;
  inputDigest?: string;
  /** `<registry>/<path>` with --push, else the local image name. */
  repository?: string;
  contentTag?: string;
  /** The pinned reference, when the image exists: `repo@sha256:…`, a local image ID, or a prebuilt tag. */
  image?: string;
  pinnedBy?: 'registry-digest' | 'local-image-id' | 'tag';
  digest?: string;
};
