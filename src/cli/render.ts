/**
 * Core events as text: NDJSON on stdout with --json, else one readable line per event on stderr.
 * Generic over jobs: every job's start and end is a line, whatever the job is.
 */
import type { HelmetEvent } from '../events.js';
import { hintText, remedyText } from './remedy-text.js';

export interface RenderOptions {
  json: boolean;
  verbose: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export function eventRenderer(o: RenderOptions): (e: HelmetEvent) => void {
  if (o.json) return (e) => o.out.write(`${JSON.stringify(e)}\n`);
  return (e) => {
    const line = plainLine(e, o.verbose);
    if (line !== undefined) o.err.write(`${line}\n`);
  };
}

/** A Dockerfile instruction: `[2/4] RUN …` (BuildKit, stage names allowed) or `Step 2/4 : RUN …` (classic). */
function isInstruction(step: string): boolean {
  return /^\[(?:[^\]]* )?\d+\/\d+\]/.test(step) || /^Step \d+\/\d+ :/.test(step);
}

export function plainLine(e: HelmetEvent, verbose: boolean): string | undefined {
  switch (e.type) {
    case 'job-started':
    case 'job-progress':
    case 'push-progress':
    case 'build-step':
    case 'job-log':
    case 'job-finished':
      return jobLine(e, verbose);
    case 'plan': {
      const count = (s: string) => e.entries.filter((x) => x.state === s).length;
      const parts = ['up-to-date', 'needs-tag', 'needs-push', 'needs-build', 'pinned-after-build', 'blocked', 'unknown']
        .filter((s) => count(s))
        .map((s) => `${count(s)} ${s}`);
      return `plan: ${parts.join(', ')}${e.push ? ` -> ${e.push}` : ' (local images; no --push)'}`;
    }
    case 'wrote':
      return `wrote ${e.path}`;
    case 'warning':
      return `${e.subject ? `[${e.subject}] ` : ''}warning: ${e.message}${e.remedy ? ` (${remedyText(e.remedy)})` : ''}`;
    default:
      return pipelineLine(e);
  }
}

type JobEvent = Extract<HelmetEvent, { type: 'job-started' | 'job-progress' | 'push-progress' | 'build-step' | 'job-log' | 'job-finished' }>;

/** A job's start, progress, log lines and end. */
function jobLine(e: JobEvent, verbose: boolean): string | undefined {
  switch (e.type) {
    case 'job-started':
      return `[${e.subject}] ${e.title}`;
    case 'job-progress':
      return verbose ? `[${e.subject}]   ${e.status}` : undefined;
    case 'push-progress':
      if (e.finishedLayer) {
        const { id, bytes, existed } = e.finishedLayer;
        // A layer pushed at once may come without a size: then none is shown.
        const size = bytes > 0 ? ` (${formatBytes(bytes)})` : '';
        return `[${e.subject}]   layer ${id.slice(0, 12)} ${existed ? 'already in the registry' : `pushed${size}`}`;
      }
      return verbose ? `[${e.subject}]   ${pushStatus(e)}` : undefined;
    case 'build-step':
      // Dockerfile instructions as they start (or come from the cache): enough to see a long build move.
      if (e.state === 'started' && (verbose || isInstruction(e.step))) return `[${e.subject}]   ${e.step}`;
      if (e.state === 'cached' && (verbose || isInstruction(e.step))) return `[${e.subject}]   CACHED ${e.step}`;
      if (verbose && e.state === 'done') return `[${e.subject}]   DONE ${e.step}${e.seconds !== undefined ? ` (${e.seconds.toFixed(1)}s)` : ''}`;
      return undefined;
    case 'job-log':
      // Step output is what a run is for; build output only with -v (its step lines come as progress).
      if (e.kind === 'step') return `[${e.subject}] | ${e.line}`;
      return verbose ? `[${e.subject}]   ${e.line}` : undefined;
    case 'job-finished':
      if (e.outcome === 'failed' && e.error) {
        return [
          `[${e.subject}] FAILED (${e.error.code}): ${e.error.message}`,
          ...(e.error.detail ?? []).map((l) => `[${e.subject}]   | ${l}`),
          ...(hintText(e.error) ? [`[${e.subject}] hint: ${hintText(e.error)}`] : []),
        ].join('\n');
      }
      if (e.outcome === 'skipped') return `[${e.subject}] skipped: ${e.summary}`;
      return `[${e.subject}] ${e.summary}${e.seconds >= 0.05 ? ` (${e.seconds.toFixed(1)}s)` : ''}`;
  }
}

type PipelineEvent = Exclude<HelmetEvent, JobEvent | { type: 'plan' | 'wrote' | 'warning' }>;

/** A local run's steps and volume, and a KFP submission. */
function pipelineLine(e: PipelineEvent): string | undefined {
  switch (e.type) {
    case 'run-start':
      return `run ${e.pipeline}: steps ${e.steps.join(', ')}${e.volume ? `; volume ${e.volume}` : ''}`;
    case 'run-outputs':
      if (e.files.length === 0) return undefined;
      return [`outputs${e.kept ? ` (kept in ${e.folder})` : ''}:`, ...e.files.map((f) => `  ${f.step}.${f.output}: ${f.path} (${formatBytes(f.bytes)})`)].join(
        '\n',
      );
    case 'volume-removed':
      return `volume ${e.volume} removed`;
    case 'volume-kept':
      return `volume ${e.volume} kept (remove it with: docker volume rm ${e.volume})`;
    case 'submit-target':
      return `KFP ${e.host}: ${e.api}${e.server ? ` (KFP ${e.server})` : ''}${e.chosenBy === '--api' ? ' as --api asks' : ''}${e.multiUser ? ', multi-user' : ''}; credentials: ${e.credentials}`;
    case 'submit-uploaded': {
      const what = {
        'pipeline-created': 'uploaded as a new pipeline',
        'version-added': 'uploaded as a new version',
        'version-reused': 'unchanged, version reused',
      }[e.action];
      return `${e.file}: ${what}: ${e.pipeline} / ${e.version}\n  ${e.url}`;
    }
    case 'submit-experiment':
      return `experiment ${e.experiment}${e.namespace ? ` in ${e.namespace}` : ''}: ${e.created ? 'created' : 'found'}`;
    case 'run-created':
      return `run ${e.runName} started: ${e.runId}\n  ${e.url}`;
    case 'run-state':
      return `run ${e.runId.slice(0, 8)}: ${e.state}${e.raw && e.raw.toUpperCase() !== e.state ? ` (${e.raw})` : ''}${e.seconds >= 0.05 ? ` (${e.seconds.toFixed(e.seconds < 10 ? 1 : 0)}s)` : ''}`;
    case 'run-task-failed':
      return `  ${e.task} FAILED${e.error ? `: ${e.error}` : ''}`;
    case 'run-detached':
      return e.reason === 'interrupted'
        ? `interrupted: no longer waiting; the run keeps running on the cluster: ${e.url}`
        : `--timeout: stopped waiting after ${e.seconds.toFixed(0)}s; the run keeps running on the cluster: ${e.url}`;
  }
}

/** `pushing 312.0 MiB / 1.9 GiB (3/7 layers)` */
export function pushStatus(e: { bytes: number; totalBytes: number; layers: number; layersDone: number }): string {
  return `pushing ${formatBytes(e.bytes)} / ${formatBytes(e.totalBytes)} (${e.layersDone}/${e.layers} layers)`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
