/**
 * The core never prints: it reports these events to a listener, and the CLI renders them (a live
 * terminal view, plain lines for logs and CI, NDJSON with --json). Work is done in jobs — registry
 * lookups, builds, pushes, publishing, pipeline steps — and every job reports its start and its end.
 */
import type { ErrorRecord } from './errors.js';
import type { PlanEntry } from './model/plan-entry.js';

export type JobKind = 'lookup' | 'build' | 'push' | 'publish' | 'step';
export type JobOutcome = 'succeeded' | 'failed' | 'skipped';

export type HelmetEvent =
  /** A job began. `subject` is the component or pipeline step it works on; `title` says what it does. */
  | { type: 'job-started'; job: string; kind: JobKind; subject: string; title: string }
  /** What a running job is doing now (a Dockerfile step, a layer being pushed). */
  | { type: 'job-progress'; job: string; kind: JobKind; subject: string; status: string }
  /** A build step (Dockerfile instruction) of a build job started, was cached, finished or failed. */
  | { type: 'build-step'; job: string; subject: string; step: string; state: 'started' | 'cached' | 'done' | 'failed'; seconds?: number; error?: string }
  /** Bytes a push job has sent; `finishedLayer` when a layer was just sent (or was already there). */
  | {
      type: 'push-progress';
      job: string;
      subject: string;
      bytes: number;
      totalBytes: number;
      layers: number;
      layersDone: number;
      finishedLayer?: { id: string; bytes: number; existed: boolean };
    }
  /** Output of a running job: build output, or a step's stdout/stderr. */
  | { type: 'job-log'; job: string; kind: JobKind; subject: string; line: string; stream?: 'stdout' | 'stderr' }
  /** A job ended. `summary` says what came of it; a failed job carries its error, a skipped one why. */
  | {
      type: 'job-finished';
      job: string;
      kind: JobKind;
      subject: string;
      outcome: JobOutcome;
      seconds: number;
      summary: string;
      error?: ErrorRecord;
    }
  /** The plan, once every lookup is done: per component, what the run will do. */
  | { type: 'plan'; push?: string; entries: PlanEntry[] }
  | { type: 'wrote'; path: string }
  | { type: 'warning'; message: string; subject?: string }
  | { type: 'run-start'; pipeline: string; volume?: string; steps: string[]; parameters: Record<string, string> }
  /** The files the steps of a run wrote as outputs; `kept` when they stay on disk (--keep-volume). */
  | { type: 'run-outputs'; folder: string; kept: boolean; files: { step: string; output: string; path: string; bytes: number }[] }
  | { type: 'volume-removed'; volume: string }
  | { type: 'volume-kept'; volume: string };

export type EventListener = (event: HelmetEvent) => void;

/** Events that belong to one running job: the job reports them, the executor adds `job` and `subject`. */
export type JobDetail =
  | Omit<Extract<HelmetEvent, { type: 'build-step' }>, 'job' | 'subject'>
  | Omit<Extract<HelmetEvent, { type: 'push-progress' }>, 'job' | 'subject'>;

export const ignoreEvents: EventListener = () => {};
