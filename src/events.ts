/**
 * The core never prints: it reports these events to a listener, and the CLI renders them (a live
 * terminal view, plain lines for logs and CI, NDJSON with --json). Work is done in jobs — registry
 * lookups, builds, pushes, publishing, pipeline steps — and every job reports its start and its end.
 */

import type { ErrorRecord, Remedy } from './errors.js';
import type { PlanEntry } from './model/plan-entry.js';
import type { TypedValue } from './model/typed-value.js';

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
  | { type: 'warning'; message: string; subject?: string; remedy?: Remedy }
  | { type: 'run-start'; pipeline: string; volume?: string; steps: string[]; parameters: Record<string, string> }
  /** The files the steps of a run wrote as outputs; `kept` when they stay on disk (--keep-volume). */
  | { type: 'run-outputs'; folder: string; kept: boolean; files: { step: string; output: string; path: string; bytes: number }[] }
  | { type: 'volume-removed'; volume: string }
  | { type: 'volume-kept'; volume: string }
  /** submit: the KFP API server answered; `credentials` says where they came from (never what they are). */
  | { type: 'submit-target'; host: string; api: KfpApi; chosenBy: 'healthz' | '--api'; server?: string; multiUser: boolean; credentials: string }
  /** submit: the pipeline and the version a run will use; `action` says what had to be uploaded for it. */
  | {
      type: 'submit-uploaded';
      pipeline: string;
      pipelineId: string;
      version: string;
      versionId: string;
      action: 'pipeline-created' | 'version-added' | 'version-reused';
      file: string;
      url: string;
    }
  | { type: 'submit-experiment'; experiment: string; experimentId: string; created: boolean; namespace?: string }
  /** submit: a run was started on the cluster; `url` is its page in the KFP UI. */
  | { type: 'run-created'; runId: string; runName: string; url: string; parameters: Record<string, TypedValue> }
  /** submit --wait: the run's state changed (KFP 2.x names; `raw` is a KFP 1.x status as the server said it). */
  | { type: 'run-state'; runId: string; state: KfpRunState; raw?: string; seconds: number }
  /** submit --wait: a task of a run that failed, with KFP's error for it. */
  | { type: 'run-task-failed'; runId: string; task: string; error?: string }
  /** submit --wait stopped waiting (Ctrl-C, --timeout); the run goes on on the cluster. */
  | { type: 'run-detached'; runId: string; url: string; reason: 'interrupted' | 'timeout'; seconds: number };

/** The KFP API a submit speaks: KFP 2.x's v2beta1 or KFP 1.x's v1beta1. */
export type KfpApi = 'v2beta1' | 'v1beta1';
/** A run's state in KFP 2.x's names (V2beta1RuntimeState). */
export type KfpRunState = 'RUNTIME_STATE_UNSPECIFIED' | 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'SKIPPED' | 'FAILED' | 'CANCELING' | 'CANCELED' | 'PAUSED';

export type EventListener = (event: HelmetEvent) => void;

/** Events that belong to one running job: the job reports them, the executor adds `job` and `subject`. */
export type JobDetail =
  | Omit<Extract<HelmetEvent, { type: 'build-step' }>, 'job' | 'subject'>
  | Omit<Extract<HelmetEvent, { type: 'push-progress' }>, 'job' | 'subject'>;

export const ignoreEvents: EventListener = () => {};
