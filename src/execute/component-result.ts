/** What became of one component in a run: the record build.json keeps, and the exit code is made from. */
import type { ErrorRecord } from '../errors.js';

export type ComponentAction = 'built' | 'pushed' | 'reused' | 'failed' | 'blocked';

export interface ComponentResult {
  component: string;
  action: ComponentAction;
  /** The reference written into the spec. */
  image?: string;
  /** How `image` is pinned. */
  pinnedBy?: 'registry-digest' | 'local-image-id' | 'tag';
  repository?: string;
  /** Tags that point at the image: the content tag, and the user tags once they were moved. */
  tags: string[];
  digest?: string;
  imageId?: string;
  inputDigest?: string;
  /** The image it was built from, for components with `from:`. */
  baseImage?: string;
  durations: { buildMs?: number; pushMs?: number };
  error?: ErrorRecord;
}
