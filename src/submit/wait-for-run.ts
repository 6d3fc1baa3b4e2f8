/** Following a KFP run to its end: each change of state reported; Ctrl-C and the timeout stop the wait, never the run. */
import { ExitCode, KfpApiError, KfpUnreachableError } from '../errors.js';
import type { EventListener, KfpRunState } from '../events.js';
import type { KfpApiClient } from './kfp-api.js';

const FINAL: Partial<Record<KfpRunState, number>> = { SUCCEEDED: ExitCode.ok, FAILED: ExitCode.failed, CANCELED: ExitCode.failed, SKIPPED: ExitCode.failed };
/** Reads of a waited-for run that may fail in a row (a dropped connection, a restarting API server) before the wait gives up. */
const POLL_FAILURES_TOLERATED = 5;

export interface WaitOptions {
  pollMs: number;
  timeoutSeconds?: number;
  signal?: AbortSignal;
  onEvent: EventListener;
  first: KfpRunState;
}

/** Read the run until it ends, reporting each change of state; Ctrl-C and the timeout stop the wait, never the run. */
export async function waitForRun(api: KfpApiClient, runId: string, url: string, o: WaitOptions): Promise<{ exitCode: number; state: KfpRunState }> {
  const t0 = Date.now();
  const seconds = () => Math.round((Date.now() - t0) / 100) / 10;
  let state = o.first;
  let raw: string | undefined;
  o.onEvent({ type: 'run-state', runId, state, seconds: 0 });
  let failures = 0;
  for (;;) {
    const final = FINAL[state];
    if (final !== undefined) return { exitCode: final, state };
    const left = o.timeoutSeconds === undefined ? Number.POSITIVE_INFINITY : o.timeoutSeconds * 1000 - (Date.now() - t0);
    if (left <= 0) {
      o.onEvent({ type: 'run-detached', runId, url, reason: 'timeout', seconds: seconds() });
      return { exitCode: ExitCode.failed, state };
    }
    await sleep(Math.min(o.pollMs, left), o.signal);
    if (o.signal?.aborted) {
      o.onEvent({ type: 'run-detached', runId, url, reason: 'interrupted', seconds: seconds() });
      return { exitCode: ExitCode.interrupted, state };
    }
    let run: Awaited<ReturnType<KfpApiClient['getRun']>>;
    try {
      run = await api.getRun(runId);
      failures = 0;
    } catch (e) {
      if (o.signal?.aborted) {
        o.onEvent({ type: 'run-detached', runId, url, reason: 'interrupted', seconds: seconds() });
        return { exitCode: ExitCode.interrupted, state };
      }
      const transient = e instanceof KfpUnreachableError || (e instanceof KfpApiError && e.status >= 500);
      if (transient && ++failures < POLL_FAILURES_TOLERATED) continue;
      throw e;
    }
    if (run.state !== state || run.raw !== raw) {
      state = run.state;
      raw = run.raw;
      o.onEvent({ type: 'run-state', runId, state, ...(raw ? { raw } : {}), seconds: seconds() });
      if (FINAL[state] === ExitCode.failed) {
        for (const t of run.failedTasks) o.onEvent({ type: 'run-task-failed', runId, task: t.task, ...(t.error ? { error: t.error } : {}) });
        if (!run.failedTasks.length && run.error) o.onEvent({ type: 'run-task-failed', runId, task: '(run)', error: run.error });
      }
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal?.aborted) return done();
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      done();
    }
    signal?.addEventListener('abort', finish, { once: true });
  });
}
