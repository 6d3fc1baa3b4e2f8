/**
 * Reading a build's answer stream: BuildKit's (a protobuf trace per step) and the classic
 * builder's (text, "Step n/m" lines). Both report steps and output lines as they come, and turn
 * an error anywhere in the stream into a BuildFailedError naming the failing step and its last lines.
 */
import type { Readable } from 'node:stream';
import { BuildFailedError } from '../errors.js';
import { redactor } from '../text/credential-args.js';
import { LastLines } from '../text/last-lines.js';
import type { BuildRequest } from './engine-client.js';
import { engineError } from './engine-errors.js';
import { readProgress } from './progress-stream.js';

/** BuildKit: progress is a protobuf trace; a failure names the failing step and what it printed. Returns the image ID. */
export async function readBuildkitBuild(req: BuildRequest, stream: Readable, where: string): Promise<string> {
  // Loaded here: a run that builds nothing never loads protobufjs.
  const { BuildkitProgress, decodeStatus } = await import('./buildkit-status.js');
  // BuildKit names steps with their build args expanded: a credential-looking value is masked in
  // step names, output lines and errors alike.
  const clean = redactor(req.redact ?? []);
  const progress = new BuildkitProgress(
    (step) => req.onStep?.({ ...step, name: clean(step.name), ...(step.error ? { error: clean(step.error) } : {}) }),
    (line) => req.onLog?.(clean(line)),
  );
  let imageId: string | undefined;
  let read: Awaited<ReturnType<typeof readProgress>>;
  try {
    read = await readProgress(stream, (m) => {
      if (m.id === 'moby.buildkit.trace' && typeof m.aux === 'string') progress.add(decodeStatus(m.aux));
      else if (typeof m.aux === 'object' && m.aux?.ID) imageId = m.aux.ID;
    });
  } catch (e) {
    throw engineError(`build ${req.name}`, e, where);
  }
  if (read.error !== undefined) {
    const failed = progress.failure(read.error);
    if (failed) throw new BuildFailedError(req.name, clean(`step "${failed.step}" failed: ${failed.error}`), failed.lines.map(clean));
    throw new BuildFailedError(req.name, clean(read.error), []);
  }
  if (!imageId) throw new BuildFailedError(req.name, 'the engine finished without reporting an image ID', []);
  return imageId;
}

/**
 * The classic builder: progress is text; "Step n/m" lines mark the steps. `removeContainer` is
 * called for the RUN container of a build that was cancelled, so that none outlives it.
 */
export async function readClassicBuild(req: BuildRequest, stream: Readable, removeContainer: (id: string) => Promise<void>, where: string): Promise<string> {
  const tail = new LastLines();
  const clean = redactor(req.redact ?? []);
  let imageId: string | undefined;
  let stepContainer: string | undefined;
  let step: string | undefined;
  let read: Awaited<ReturnType<typeof readProgress>>;
  try {
    read = await readProgress(stream, (m) => {
      if (typeof m.aux === 'object' && m.aux?.ID) imageId = m.aux.ID;
      const text = m.stream ?? m.status;
      if (!text) return;
      for (const raw of text.split('\n')) {
        if (!raw.trim()) continue;
        const line = clean(raw);
        stepContainer = /^ ---> Running in ([0-9a-f]{12,64})$/.exec(line)?.[1] ?? stepContainer;
        if (/^Step \d+\/\d+ :/.test(line)) {
          if (step) req.onStep?.({ name: step, state: 'done' });
          step = line;
          req.onStep?.({ name: line, state: 'started' });
        }
        tail.push(line);
        req.onLog?.(line);
      }
    });
  } catch (e) {
    // A cancelled build: the engine removes its RUN container in its own time; do it now.
    if (stepContainer) await removeContainer(stepContainer).catch(() => undefined);
    throw engineError(`build ${req.name}`, e, where);
  }
  if (read.error !== undefined) {
    const error = clean(read.error);
    if (step) req.onStep?.({ name: step, state: 'failed', error });
    throw new BuildFailedError(req.name, step ? `step "${step}" failed: ${error}` : error, tail.lines());
  }
  if (step) req.onStep?.({ name: step, state: 'done' });
  if (!imageId) throw new BuildFailedError(req.name, 'the engine finished without reporting an image ID', tail.lines());
  return imageId;
}
