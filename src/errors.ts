/**
 * Typed errors. Code branches on `code`, never on message text. Every error a user can cause or fix
 * maps to a documented exit code (README "Exit codes").
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  unreachable: 3,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export type HelmetErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'OUTPUT_LOCKED'
  | 'OUTPUT_WRITE'
  | 'BUILD_FAILED'
  | 'PUSH_FAILED'
  | 'DIGEST_MISMATCH'
  | 'ENGINE_UNREACHABLE'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_AUTH'
  | 'REGISTRY_TLS'
  | 'REGISTRY_FORBIDDEN'
  | 'REGISTRY_ERROR'
  | 'PULL_FAILED'
  | 'ENGINE_ERROR'
  | 'ENGINE_UNSUPPORTED'
  | 'STEP_FAILED'
  | 'STEP_OUTPUT_MISSING'
  | 'DEPENDENCY_FAILED'
  | 'NOT_BUILT'
  | 'NOT_VERIFIED'
  | 'CONTEXT_CHANGED'
  | 'KFP_UNREACHABLE'
  | 'KFP_AUTH'
  | 'KFP_FORBIDDEN'
  | 'KFP_ERROR'
  | 'INTERRUPTED';

export abstract class HelmetError extends Error {
  abstract readonly code: HelmetErrorCode;
  abstract readonly exitCode: ExitCodeValue;
  /** One line telling the user what to do about it, when there is something to do. */
  readonly hint?: string;
  /** A command of this tool that fixes it, as data: the CLI puts it in words (the core never spells command lines). */
  readonly remedy?: Remedy;
  /** The last lines of output that led to it (a build step's, a container's). */
  readonly detail?: string[];

  constructor(message: string, options?: { cause?: unknown; hint?: string; remedy?: Remedy; detail?: string[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
    if (options?.remedy) this.remedy = options.remedy;
    if (options?.detail?.length) this.detail = options.detail;
  }
}

/**
 * Commands of this tool that fix a problem. `build-first`: the named components have no image for
 * their current inputs in the registry. `write-specs`: the pipeline spec a submission reads is
 * missing, unreadable or older than pipeline.yaml (`v1-package` for a KFP 1.x server).
 */
export type Remedy =
  | { kind: 'build-first'; components: string[]; push?: string }
  | { kind: 'write-specs'; spec: 'v2-spec' | 'v1-package'; problem: 'missing' | 'unreadable' | 'stale' };

/** Where in a file a problem is: 1-based line and column. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export interface ConfigProblem extends SourceLocation {
  /** Dotted path of the offending key, e.g. `build.args.TORCH` */
  path: string;
  message: string;
}

function formatProblem(p: ConfigProblem): string {
  const where = p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

export class ConfigError extends HelmetError {
  readonly code = 'CONFIG_INVALID';
  readonly exitCode = ExitCode.badInput;
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'), {
      hint: 'Fix the file(s) named above; nothing was built or written.',
    });
  }
}

export class UsageError extends HelmetError {
  readonly code = 'USAGE';
  readonly exitCode = ExitCode.badInput;
}

/** Another run is writing the same output folder. */
export class OutputLockedError extends HelmetError {
  readonly code = 'OUTPUT_LOCKED';
  readonly exitCode = ExitCode.badInput;
}

export class BuildFailedError extends HelmetError {
  readonly code = 'BUILD_FAILED';
  readonly exitCode = ExitCode.failed;
  constructor(component: string, engineMessage: string, logTail: string[]) {
    super(`build of ${component} failed: ${engineMessage}`, { detail: logTail });
  }
}

export class PushFailedError extends HelmetError {
  readonly code = 'PUSH_FAILED';
  readonly exitCode = ExitCode.failed;
  /** The transfer broke off (a dropped connection, an EOF): another attempt may succeed. */
  readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown; hint?: string; retryable?: boolean }) {
    super(message, options);
    this.retryable = options?.retryable ?? false;
  }
}

/** An output file could not be written (a full disk, no permission, a read-only file system). */
export class OutputWriteError extends HelmetError {
  readonly code = 'OUTPUT_WRITE';
  readonly exitCode = ExitCode.failed;
}

export class DigestMismatchError extends HelmetError {
  readonly code = 'DIGEST_MISMATCH';
  readonly exitCode = ExitCode.failed;
}

export class DependencyFailedError extends HelmetError {
  readonly code = 'DEPENDENCY_FAILED';
  readonly exitCode = ExitCode.failed;
}

/** Files changed while their build context was being sent: the image matches no input digest. */
export class ContextChangedError extends HelmetError {
  readonly code = 'CONTEXT_CHANGED';
  readonly exitCode = ExitCode.failed;
}

/** An image is unsigned, signed by another key, without provenance, or built from other inputs than the current ones. */
export class NotVerifiedError extends HelmetError {
  readonly code = 'NOT_VERIFIED';
  readonly exitCode = ExitCode.failed;
}

/** `emit` found no pushed image for a component's current inputs. */
export class NotBuiltError extends HelmetError {
  readonly code = 'NOT_BUILT';
  readonly exitCode = ExitCode.failed;
}

export class EngineUnreachableError extends HelmetError {
  readonly code = 'ENGINE_UNREACHABLE';
  readonly exitCode = ExitCode.unreachable;
}

export class RegistryUnreachableError extends HelmetError {
  readonly code = 'REGISTRY_UNREACHABLE';
  readonly exitCode = ExitCode.unreachable;
}

/** 401: credentials missing or wrong. */
/** The TLS handshake with a registry failed on trust: its certificate, or ours. Final, not transient. */
export class RegistryTlsError extends HelmetError {
  readonly code = 'REGISTRY_TLS';
  readonly exitCode = ExitCode.unreachable;
}

export class RegistryAuthError extends HelmetError {
  readonly code = 'REGISTRY_AUTH';
  readonly exitCode = ExitCode.failed;
}

/** 403: the credentials were accepted, but may not do this (read-only robot, wrong project). */
export class RegistryForbiddenError extends HelmetError {
  readonly code = 'REGISTRY_FORBIDDEN';
  readonly exitCode = ExitCode.failed;
}

/** The registry answered, but with an error status no other class describes (5xx, 400, …). */
export class RegistryError extends HelmetError {
  readonly code = 'REGISTRY_ERROR';
  readonly exitCode = ExitCode.failed;
}

export class PullFailedError extends HelmetError {
  readonly code = 'PULL_FAILED';
  readonly exitCode = ExitCode.failed;
}

/** The engine cannot build the way this run asks (a known defect of its version); the message says what to do. */
export class EngineUnsupportedError extends HelmetError {
  readonly code = 'ENGINE_UNSUPPORTED';
  readonly exitCode = ExitCode.unreachable;
}

/** The engine answered a request with an error (not a build or push failure). */
export class EngineError extends HelmetError {
  readonly code = 'ENGINE_ERROR';
  readonly exitCode = ExitCode.failed;
}

/** A step of a local run succeeded without writing a file output it declares (as KFP's launcher checks). */
export class StepOutputMissingError extends HelmetError {
  readonly code = 'STEP_OUTPUT_MISSING';
  readonly exitCode = ExitCode.failed;
}

/** A pipeline step of a local run exited non-zero. */
export class StepFailedError extends HelmetError {
  readonly code = 'STEP_FAILED';
  readonly exitCode = ExitCode.failed;
  constructor(
    step: string,
    readonly stepExitCode: number,
    lastLines: string[],
  ) {
    super(`step ${step} exited with code ${stepExitCode}`, { detail: lastLines });
  }
}

/** The KFP API server does not answer (refused connection, DNS, timeout, TLS trust). */
export class KfpUnreachableError extends HelmetError {
  readonly code = 'KFP_UNREACHABLE';
  readonly exitCode = ExitCode.unreachable;
}

/** 401 from the KFP API server (or a redirect to a login page): credentials missing, wrong or expired. */
export class KfpAuthError extends HelmetError {
  readonly code = 'KFP_AUTH';
  readonly exitCode = ExitCode.failed;
}

/** 403 from the KFP API server: the credentials were accepted, but may not do this (namespace, RBAC). */
export class KfpForbiddenError extends HelmetError {
  readonly code = 'KFP_FORBIDDEN';
  readonly exitCode = ExitCode.failed;
}

/** The KFP API server answered with an error of its own; the message carries its `error_message`/`message`. */
export class KfpApiError extends HelmetError {
  readonly code = 'KFP_ERROR';
  readonly exitCode = ExitCode.failed;
  /** The HTTP status of the answer (200 for an answer that is not what KFP's API returns). */
  readonly status: number;

  constructor(message: string, options: { status: number; cause?: unknown; hint?: string }) {
    super(message, options);
    this.status = options.status;
  }
}

export class InterruptedError extends HelmetError {
  readonly code = 'INTERRUPTED';
  readonly exitCode = ExitCode.interrupted;
}

export function isHelmetError(e: unknown): e is HelmetError {
  return e instanceof HelmetError;
}

/** What a failed job reports: the error's code, exit code, message, hint and log lines. */
export interface ErrorRecord {
  code: string;
  exitCode: number;
  message: string;
  hint?: string;
  remedy?: Remedy;
  detail?: string[];
}

export function errorRecord(e: HelmetError): ErrorRecord {
  return {
    code: e.code,
    exitCode: e.exitCode,
    message: e.message,
    ...(e.hint ? { hint: e.hint } : {}),
    ...(e.remedy ? { remedy: e.remedy } : {}),
    ...(e.detail ? { detail: e.detail } : {}),
  };
}

/** The message and its hint in one line, for a warning that carries a failure that does not fail the run. */
export function messageWithHint(e: HelmetError): string {
  return e.hint ? `${e.message}. ${e.hint}` : e.message;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Interrupted beats unreachable beats bad input beats failed: one exit code says the most important thing. */
export function worstExitCode(codes: number[]): number {
  for (const c of [ExitCode.interrupted, ExitCode.unreachable, ExitCode.badInput, ExitCode.failed]) if (codes.includes(c)) return c;
  return codes.length ? ExitCode.failed : ExitCode.ok;
}
