import type { HelmetEvent } from '../events.js';

export interface RenderOptions {
  json: boolean;
  verbose: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Render core events: NDJSON on stdout with --json, else one readable line each on stderr. */
export function eventRenderer(o: RenderOptions): (e: HelmetEvent) => void {
  if (o.json) return (e) => o.out.write(`${JSON.stringify(e)}\n`);
  return (e) => {
    const line = plainLine(e, o.verbose);
    if (line !== undefined) o.err.write(`${line}\n`);
  };
}


export function plainLine(e: HelmetEvent, verbose: boolean): string | undefined {
  const p = 'component' in e && e.component ? `[${e.component}] ` : '';
  switch (e.type) {
    case 'plan':
      return `helmet-build: ${e.components.length} component(s): ${e.components.join(', ')}${e.push ? ` -> ${e.push}` : ' (local images; no --push)'}`;
    case 'context':
      return `${p}context: ${e.files} entries, ${formatBytes(e.bytes)}; input ${e.inputDigest.slice(0, 19)}`;
    case 'cached':
      return `${p}unchanged: reusing ${e.ref} (${e.where === 'registry' ? 'in the registry' : 'in the engine'})`;
    case 'needs-build':
      return `${p}needs a build: ${e.reason}`;
    case 'build-start':
      return `${p}building ${e.tags[0]}`;
    case 'build-log':
      // Without -v, only the Dockerfile step lines: enough to see a long build move.
      return verbose || /^Step \d+\/\d+ :/.test(e.line) ? `${p}  ${e.line}` : undefined;
    case 'built':
      return `${p}built ${e.imageId.slice(0, 19)} in ${e.seconds.toFixed(1)}s`;
    case 'push-start':
      return verbose ? `${p}pushing ${e.ref}` : undefined;
    case 'pushed':
      return verbose ? `${p}pushed ${e.ref} in ${e.seconds.toFixed(1)}s` : undefined;
    case 'component-done':
      // A local build was already reported by its 'built' line.
      return e.action === 'built' ? undefined : `${p}${e.action}: ${e.image}`;
    case 'component-failed':
      return [
        `${p}FAILED (${e.code}): ${e.message}`,
        ...(e.detail ?? []).map((l) => `${p}  | ${l}`),
        ...(e.hint ? [`${p}hint: ${e.hint}`] : []),
      ].join('\n');
    case 'wrote':
      return `wrote ${e.path}`;
    case 'warning':
      return `${p}warning: ${e.message}`;
    case 'run-start':
      return `run ${e.pipeline}: steps ${e.steps.join(' -> ')}; volume ${e.volume}`;
    case 'step-start':
      return `[${e.step}] start ${e.image}: ${e.command.join(' ')}`;
    case 'step-log':
      return `[${e.step}] | ${e.line}`;
    case 'step-done':
      return `[${e.step}] done in ${e.seconds.toFixed(1)}s`;
    case 'step-failed':
      return [`[${e.step}] FAILED: ${e.message}; last lines:`, ...e.lastLines.map((l) => `[${e.step}]   ${l}`)].join('\n');
    case 'step-skipped':
      return `[${e.step}] skipped: ${e.reason}`;
    case 'volume-removed':
      return `volume ${e.volume} removed`;
    case 'volume-kept':
      return `volume ${e.volume} kept (remove it with: docker volume rm ${e.volume})`;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
