/**
 * One DAG executor for every kind of work: a job waits for the jobs it needs, then for a slot of
 * its own kind (so lookups run all at once and a push never holds a build slot), then runs. Each
 * job reports `job-started` / `job-finished`. A job whose dependency failed or was skipped is
 * skipped. Typed (Helmet) errors fail one job; anything else stops new jobs from starting and is
 * rethrown once the running ones have ended, to surface as an internal error.
 */
import type { BuildStep } from '../engine/buildkit-status.js';
import type { PushProgress } from '../engine/push-progress.js';
import { errorRecord, type HelmetError, InterruptedError, isHelmetError } from '../errors.js';
import type { EventListener, JobKind, JobOutcome } from '../events.js';
import { topologicalOrder } from '../graph/graph.js';
import { Limiter } from './limiter.js';

export interface JobContext {
  /** What the job is doing now, for progress views. */
  progress(status: string): void;
  log(line: string, stream?: 'stdout' | 'stderr'): void;
  /** A build step of a build job started or ended. */
  step(step: BuildStep): void;
  /** Bytes a push job has sent. */
  pushed(progress: PushProgress): void;
  signal?: AbortSignal;
}

export interface Job<R> {
  id: string;
  kind: JobKind;
  /** The component or step the job works on. */
  subject: string;
  title: string;
  /** Ids of the jobs that must succeed first. */
  needs: string[];
  /** Runs the job; `summary` is shown when it ends. */
  run(context: JobContext): Promise<{ result: R; summary: string }>;
}

export type JobReport<R> =
  | { outcome: 'succeeded'; result: R; seconds: number }
  | { outcome: 'failed'; error: HelmetError; seconds: number }
  | { outcome: 'skipped'; reason: string; blockedBy: string[] };

export type JobLimits = Partial<Record<JobKind, number>>;

export class DagExecutor {
  private readonly limiters = new Map<JobKind, Limiter>();

  constructor(
    limits: JobLimits,
    private readonly onEvent: EventListener,
    private readonly signal?: AbortSignal,
  ) {
    for (const [kind, limit] of Object.entries(limits)) this.limiters.set(kind as JobKind, new Limiter(limit));
  }

  async run<R>(jobs: Job<R>[]): Promise<Map<string, JobReport<R>>> {
    const byId = new Map(jobs.map((j) => [j.id, j]));
    for (const j of jobs) {
      const unknown = j.needs.filter((n) => !byId.has(n));
      if (unknown.length) throw new Error(`job ${j.id} needs unknown job(s) ${unknown.join(', ')}`);
    }
    const sorted = topologicalOrder([...byId.keys()], (id) => byId.get(id)!.needs);
    if (sorted.cycle) throw new Error(`jobs form a cycle: ${sorted.cycle.join(' -> ')}`);

    const reports = new Map<string, JobReport<R>>();
    const running = new Map<string, Promise<JobReport<R>>>();
    let unexpected: { error: unknown } | undefined;
    const start = (job: Job<R>): Promise<JobReport<R>> =>
      (async () => {
        const needed = await Promise.all(job.needs.map((n) => running.get(n)!));
        if (this.signal?.aborted) return this.skip(job, 'interrupted', []);
        const blockedBy = job.needs.filter((_, i) => needed[i]!.outcome !== 'succeeded');
        if (blockedBy.length) {
          const names = [...new Set(blockedBy.map((id) => byId.get(id)!.subject))];
          return this.skip(job, `runs after ${names.join(', ')}, which did not succeed`, blockedBy);
        }
        const limiter = this.limiters.get(job.kind);
        return limiter ? limiter.run(() => this.execute(job, () => unexpected)) : this.execute(job, () => unexpected);
      })().then(
        (report) => {
          reports.set(job.id, report);
          return report;
        },
        (error: unknown) => {
          unexpected ??= { error };
          const report: JobReport<R> = { outcome: 'skipped', reason: 'stopped by an internal error', blockedBy: [] };
          reports.set(job.id, report);
          return report;
        },
      );
    for (const id of sorted.order) running.set(id, start(byId.get(id)!));
    await Promise.all(running.values());
    if (unexpected) throw unexpected.error;
    return reports;
  }

  private async execute<R>(job: Job<R>, stopped: () => { error: unknown } | undefined): Promise<JobReport<R>> {
    if (this.signal?.aborted) return this.skip(job, 'interrupted', []);
    if (stopped()) return this.skip(job, 'stopped by an internal error', []);
    const base = { job: job.id, kind: job.kind, subject: job.subject };
    this.onEvent({ type: 'job-started', ...base, title: job.title });
    const t0 = Date.now();
    const seconds = () => (Date.now() - t0) / 1000;
    try {
      const { result, summary } = await job.run({
        progress: (status) => this.onEvent({ type: 'job-progress', ...base, status }),
        log: (line, stream) => this.onEvent({ type: 'job-log', ...base, line, ...(stream ? { stream } : {}) }),
        pushed: (p) => this.onEvent({ type: 'push-progress', job: job.id, subject: job.subject, ...p }),
        step: (s) =>
          this.onEvent({
            type: 'build-step',
            job: job.id,
            subject: job.subject,
            step: s.name,
            state: s.state,
            ...(s.seconds !== undefined ? { seconds: s.seconds } : {}),
            ...(s.error ? { error: s.error } : {}),
          }),
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

  private skip<R>(job: Job<R>, reason: string, blockedBy: string[]): JobReport<R> {
    this.finished(job, 'skipped', 0, reason);
    return { outcome: 'skipped', reason, blockedBy };
  }

  private finished(job: Job<unknown>, outcome: JobOutcome, seconds: number, summary: string): void {
    this.onEvent({ type: 'job-finished', job: job.id, kind: job.kind, subject: job.subject, outcome, seconds, summary });
  }
}
