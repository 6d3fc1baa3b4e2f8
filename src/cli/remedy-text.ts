/** The words of a remedy: the command lines of this tool that fix what the core reported as data. */

import type { Remedy } from '../errors.js';

const SPEC_NAMES = { 'v2-spec': 'the v2 spec', 'v1-package': 'the v1 package' } as const;

export function remedyText(remedy: Remedy): string {
  switch (remedy.kind) {
    case 'build-first':
      return `Build it first: helmet-build build ${remedy.components.join(' ')} --push ${remedy.push ?? '<repo>'}`;
    case 'write-specs': {
      const writes = `helmet-build all --push <repo> (or emit --push <repo>) writes ${SPEC_NAMES[remedy.spec]}`;
      if (remedy.problem === 'stale') return `${writes} for the current pipeline.yaml.`;
      if (remedy.problem === 'unreadable') return `${writes} again.`;
      if (remedy.spec === 'v1-package') return `${writes} beside the v2 spec; a pipeline only KFP v2 can run has none: submit it to KFP 2.x (--api v2).`;
      return `${writes}.`;
    }
  }
}

/** The hint line of an error: its own words, then the words of its remedy. */
export function hintText(error: { hint?: string; remedy?: Remedy }): string | undefined {
  const parts = [error.hint, error.remedy && remedyText(error.remedy)].filter((p): p is string => !!p);
  return parts.length ? parts.join(' ') : undefined;
}
