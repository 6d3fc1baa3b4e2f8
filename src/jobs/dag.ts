/**
 * One DAG executor for every kind of work: a job waits for the jobs it needs, then for a slot of
 * its own kind (so lookups run all at once and a push never holds a build slot), then runs. The
 * executor owns the job events: every job reports `job-started` / `job-finished` from here, and
 * nowhere else. A job whose dependency failed or was skipped is skipped; a job marked `excluded`
 * is reported skipped without running. Typed (Helmet) errors fail one job; anything else stops
 * new jobs from starting and is rethrown once the running ones have ended, to surface as an
 * internal error. Results come back per job object, never by rebuilding ids.
 */
import { errorRecord, type HelmetError, InterruptedError, isHelmetError } from '../errors.js';
import type { EventListener, JobDetail, JobKind, JobOutcome } from '../events.js';
import { topologicalOrder } from '../graph/graph.js';
import { Limiter } from './limiter.js';

/** What a running job may report; the executor adds which job it is. */
export interface JobContext {
  /** What the job is doing now, for progress views. */
  progress(status: string): void;
  log(line: string, stream?: 'stdout' | 'stderr'): void;
  /** A job-scoped event: a build step, push progress. */
  report(detail: JobDetail): void;
  signal?: AbortSignal;
}

export interface Job<R> {
  id: string;
  kind: JobKind;
  /** The component or step the job works on. */
  subject: string;
  title: string;
  /** Jobs that must succeed first. */
  needs: Job<R>[];
  /** Not to run: reported skipped with this reason (and its dependants skipped after it). */
  excluded?: string;
  /** Runs the job; `summary` is shown when it ends. */
  run(context: JobContext): Promise<{ result: R; summary: string }>;
}

/** Why a job did not run. */
export type SkipReason =
  | { kind: 'interrupted' }
  /** A job it needs did not succeed; `skippedOnly` when none of them failed (they were skipped themselves). */
  | { kind: 'dependency'; blockedBy: Job<unknown>[]; skippedOnly: boolean }
  /** An unexpected failure elsewhere stopped the run. */
  | { kind: 'internal' }
  /** The caller excluded it (`Job.excluded`). */
  | { kind: 'excluded'; why: string };

export type JobReport<R> =
  | { outcome: 'succeeded'; result: R; seconds: number }
  | { outcome: 'failed'; error: HelmetError; seconds: number }
  | { outcome: 'skipped'; reason: SkipReason; summary: string };

export type JobLimits = Partial<Record<JobKind, number>>;

/** The reports of one run, looked up by the job objects that were run. */
class JobReports<R> {
  constructor(private readonly byJob: Map<Job<R>, JobReport<R>>) {}

  of(job: Job<R>): JobReport<R> {
    const report = this.byJob.get(job);
    if (!report) throw new Error(`no report for job ${job.id}: it was not part of the run`);
    return report;
  }
}

export class DagExecutor {
  private readonly limiters = new Map<JobKind, Limiter>();

  constructor(
    limits: JobLimits,
    private readonly onEvent: EventListener,
    private readonly signal?: AbortSignal,
  ) {
    for (const [kind, limit] of Object.entries(limits)) this.limiters.set(kind as JobKind, new Limiter(limit));
  }

  /** Runs `jobs`; `onSettled` hears of each job's report as soon as it has one (outside the job's own body). */
  async run<R>(jobs: Job<R>[], onSettled?: (job: Job<R>, report: JobReport<R>) => void): Promise<JobReports<R>> {
    const members = new Set(jobs);
    const ids = new Set<string>();
    for (const j of jobs) {
      if (ids.has(j.id)) throw new Error(`two jobs are named ${j.id}`);
      ids.add(j.id);
      const foreign = j.needs.filter((n) => !members.has(n));
      if (foreign.length) throw new Error(`job ${j.id} needs job(s) outside the run: ${foreign.map((n) => n.id).join(', ')}`);
    }
    const sorted = topologicalOrder(jobs, (j) => j.needs);
    if (sorted.cycle) throw new Error(`jobs form a cycle: ${sorted.cycle.map((j) => j.id).join(' -> ')}`);

    const reports = new Map<Job<R>, JobReport<R>>();
    const running = new Map<Job<R>, Promise<JobReport<R>>>();
    let unexpected: { error: unknown } | undefined;
    const start = (job: Job<R>): Promise<JobReport<R>> =>
      (async () => {
        const needed = await Promise.all(job.needs.map((n) => running.get(n)!));
        if (job.excluded !== undefined) return this.skip(job, { kind: 'excluded', why: job.excluded });
        if (this.signal?.aborted) return this.skip(job, { kind: 'interrupted' });
        const blocked = job.needs.flatMap((n, i) => (needed[i]!.outcome === 'succeeded' ? [] : [{ job: n, report: needed[i]! }]));
        if (blocked.length) {
          const skippedOnly = blocked.every((b) => b.report.outcome === 'skipped');
          return this.skip(job, { kind: 'dependency', blockedBy: blocked.map((b) => b.job), skippedOnly });
        }
        const limiter = this.limiters.get(job.kind);
        return limiter ? limiter.run(() => this.execute(job, () => unexpected)) : this.execute(job, () => unexpected);
      })().then(
        (report) => {
          reports.set(job, report);
          try {
            onSettled?.(job, report);
          } catch (error) {
            unexpected ??= { error };
          }
          return report;
        },
        (error: unknown) => {
          unexpected ??= { error };
          const report: JobReport<R> = { outcome: 'skipped', reason: { kind: 'internal' }, summary: SKIP_SUMMARY.internal };
          reports.set(job, report);
          return report;
        },
      );
    for (const job of sorted.order) running.set(job, start(job));
    await Promise.all(running.values());
    if (unexpected) throw unexpected.error;
    return new JobReports(reports);
  }

  private async execute<R>(job: Job<R>, stopped: () => { error: unknown } | undefined): Promise<JobReport<R>> {
    if (this.signal?.aborted) return this.skip(job, { kind: 'interrupted' });
    if (stopped()) return this.skip(job, { kind: 'internal' });
    const base = { job: job.id, kind: job.kind, subject: job.subject };
    this.onEvent({ type: 'job-started', ...base, title: job.title });
    const t0 = Date.now();
    const seconds = () => (Date.now() - t0) / 1000;
    try {
      const { result, summary } = await job.run({
        progress: (status) => this.onEvent({ type: 'job-progress', ...base, status }),
        log: (line, stream) => this.onEvent({ type: 'job-log', ...base, line, ...(stream ? { stream } : {}) }),
        report: (detail) => this.onEvent({ ...detail, job: job.id, subject: job.subject }),
        signal: this.signal,
      });
      const report: JobReport<R> = { outcome: 'succeeded', result, seconds: seconds() };
      this.finished(job, 'succeeded', report.seconds, summary);
      return report;
    } catch (e) {
      if (!isHelmetError(e) && !this.signal?.aborted) throw e;
      const error = this.signal?.aborted && !(e instanceof InterruptedError) ? new InterruptedError('interrupted', { cause: e }) : (e as HelmetError);
      const report: JobReport<R> = { outcome: 'failed', error, seconds: seconds() };
      this.onEvent({ type: 'job-finished', ...base, outcome: 'failed', seconds: report.seconds, summary: error.message, error: errorRecord(error) });
      return report;
    }
  }

  private skip<R>(job: Job<R>, reason: SkipReason): JobReport<R> {
    const summary = skipSummary(reason);
    this.finished(job, 'skipped', 0, summary);
    return { outcome: 'skipped', reason, summary };
  }

  private finished(job: Job<unknown>, outcome: JobOutcome, seconds: number, summary: string): void {
    this.onEvent({ type: 'job-finished', job: job.id, kind: job.kind, subject: job.subject, outcome, seconds, summary });
  }
}

const SKIP_SUMMARY = { interrupted: 'interrupted', internal: 'stopped by an internal error' } as const;

function skipSummary(reason: SkipReason): string {
  switch (reason.kind) {
    case 'interrupted':
    case 'internal':
      return SKIP_SUMMARY[reason.kind];
    case 'excluded':
      return reason.why;
    case 'dependency': {
      const names = [...new Set(reason.blockedBy.map((j) => j.subject))].join(', ');
      return reason.skippedOnly ? `runs after a skipped step (${names})` : `runs after ${names}, which did not succeed`;
    }
  }
}
