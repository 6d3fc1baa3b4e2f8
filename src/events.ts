/**
 * The core never prints: it reports these events to a listener, and the CLI renders them
 * (plain lines for logs and CI, NDJSON with --json).
 */
export type BuildAction = 'built' | 'reused' | 'pushed' | 'failed' | 'skipped';

export type HelmetEvent =
  | { type: 'plan'; components: string[]; push?: string }
  | { type: 'context'; component: string; files: number; bytes: number; inputDigest: string }
  | { type: 'cached'; component: string; ref: string; where: 'registry' | 'local' }
  | { type: 'needs-build'; component: string; reason: string }
  | { type: 'build-start'; component: string; tags: string[] }
  | { type: 'build-log'; component: string; line: string }
  | { type: 'built'; component: string; imageId: string; seconds: number }
  | { type: 'push-start'; component: string; ref: string }
  | { type: 'pushed'; component: string; ref: string; digest: string; seconds: number }
  | { type: 'component-done'; component: string; action: BuildAction; image: string }
  | { type: 'component-failed'; component: string; code: string; message: string; hint?: string; detail?: string[] }
  | { type: 'wrote'; path: string }
  | { type: 'warning'; message: string; component?: string }
  | { type: 'run-start'; pipeline: string; volume: string; steps: string[]; parameters: Record<string, string> }
  | { type: 'step-start'; step: string; image: string; command: string[] }
  | { type: 'step-log'; step: string; line: string; stream: 'stdout' | 'stderr' }
  | { type: 'step-done'; step: string; seconds: number }
  | { type: 'step-failed'; step: string; exitCode: number; message: string; lastLines: string[] }
  | { type: 'step-skipped'; step: string; reason: string }
  | { type: 'volume-removed'; volume: string }
  | { type: 'volume-kept'; volume: string };

export type EventListener = (event: HelmetEvent) => void;

export const ignoreEvents: EventListener = () => {};
