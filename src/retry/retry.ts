/**
 * Transient faults (connection refused or reset, timeouts, 429, 5xx) are retried with bounded
 * exponential backoff and jitter (p-retry); everything else is final at once. The budget is small:
 * a few retries (default 3, set per service by an environment variable), 0.25 s doubling to at most 2 s.
 */
import pRetry from 'p-retry';
import { UsageError } from '../errors.js';

export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

/** The policy whose retry count the environment variable `setting` may change; a value that is no count is refused (exit 2). */
export function retryPolicy(setting: string, env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  const raw = env[setting];
  const retries = raw === undefined ? DEFAULT_RETRIES : /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(retries)) {
    throw new UsageError(`${setting}=${JSON.stringify(raw)}: not a number of retries`, {
      hint: `Set it to a whole number (0 for no retries, ${DEFAULT_RETRIES} by default), or unset it.`,
    });
  }
  return { retries, minTimeoutMs: 250, maxTimeoutMs: 2000 };
}

const DEFAULT_RETRIES = 3;

/** A failure worth another try: a network fault, or a status the registry may not give again. */
export class TransientFault extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** The typed error to report if no attempt succeeds. */
    readonly final?: Error,
  ) {
    super(message);
  }
}

/**
 * Run `attempt`, trying again while it throws TransientFault, within the policy; `onRetry` hears of
 * each fault tried again. When no attempt succeeds, the last fault's `final` error is thrown (the
 * fault itself when it has none, for the caller to say what was unreachable).
 */
export async function withRetries<T>(policy: RetryPolicy, attempt: () => Promise<T>, onRetry?: (fault: TransientFault, attempt: number) => void): Promise<T> {
  try {
    return await retrying(policy, attempt, onRetry);
  } catch (e) {
    throw e instanceof TransientFault && e.final ? e.final : e;
  }
}

function retrying<T>(policy: RetryPolicy, attempt: () => Promise<T>, onRetry?: (fault: TransientFault, attempt: number) => void): Promise<T> {
  return pRetry(attempt, {
    retries: policy.retries,
    factor: 2,
    minTimeout: policy.minTimeoutMs,
    maxTimeout: policy.maxTimeoutMs,
    randomize: true,
    shouldRetry: ({ error }) => error instanceof TransientFault,
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (error instanceof TransientFault && retriesLeft > 0) onRetry?.(error, attemptNumber);
    },
  });
}

/** Statuses a registry may answer differently next time. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}
