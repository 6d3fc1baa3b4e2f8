import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FILES_PROJECT, makeProject, runCli } from '../support/project.js';
import { removeImages, uniqueName } from '../support/services.js';

const ndjson = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** `helmet-build run` passing files between steps (busybox producer and consumer on the real engine). */
describe('run: file outputs and inputs between steps (real engine)', () => {
  const image = uniqueName('itest-files');
  const files = Object.fromEntries(
    Object.entries(FILES_PROJECT).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/image: (producer|consumer)/, `image: ${image}-$1`) : v]),
  );
  const project = makeProject(files);
  afterAll(async () => {
    await removeImages(image);
    project.cleanup();
  });

  it('the consumer reads exactly the bytes the producer wrote, and a small output arrives as a value; the files are listed', async () => {
    const r = await runCli(['run', '--json', '--keep-volume'], project.root);
    expect(r.code, r.stdout).toBe(0);
    const events = ndjson(r.stdout);
    const lines = events.filter((e) => e.type === 'job-log' && e.subject === 'use').map((e) => e.line);
    expect(lines).toEqual(['a,b', '1,2', 'rows=1']);
    const outputs = events.find((e) => e.type === 'run-outputs');
    expect(outputs.kept).toBe(true);
    expect(outputs.files.map((f: { step: string; output: string; bytes: number }) => [f.step, f.output, f.bytes])).toEqual([
      ['make', 'data', 8],
      ['make', 'row count', 2],
      ['use', 'summary', 8],
    ]);
    const summary = outputs.files.find((f: { output: string }) => f.output === 'summary').path;
    expect(readFileSync(summary, 'utf8')).toBe('a,b\n1,2\n');
    expect(existsSync(outputs.folder)).toBe(true);
  });

  it('a producer that succeeds without writing its declared output fails the step with a clear message, and its consumer is skipped', async () => {
    const file = join(project.root, 'components/producer/component.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('printf "a,b\\n1,2\\n" > "$0" && ', 'true "$0" && '));
    const r = await runCli(['run', '--json'], project.root);
    expect(r.code).toBe(1);
    const events = ndjson(r.stdout);
    expect(events.find((e) => e.type === 'job-finished' && e.subject === 'make')).toMatchObject({
      outcome: 'failed',
      error: { code: 'STEP_OUTPUT_MISSING', message: 'step make succeeded but did not write its output "data" (to /helmet/run/make/data)' },
    });
    expect(events.find((e) => e.type === 'job-finished' && e.subject === 'use')).toMatchObject({ outcome: 'skipped' });
    // Without --keep-volume the run's folder is gone.
    expect(existsSync(events.find((e) => e.type === 'run-outputs').folder)).toBe(false);
  });
});
