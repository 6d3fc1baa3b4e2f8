/**
 * The CLI ends as soon as its work is done and its output written: a run whose output is still
 * queued for a pipe (a reader slower than the run) loses none of it, and the exit code is the run's.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'helmet-build.js');

describe('the end of a run', () => {
  const root = mkdtempSync(join(tmpdir(), 'helmet-exit-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("output far beyond a pipe buffer reaches a slow reader whole, and the exit code is the run's", async () => {
    mkdirSync(join(root, 'dockerfiles'));
    writeFileSync(join(root, 'dockerfiles/tiny.Dockerfile'), 'FROM helmet/busybox:latest\nCOPY . /app\n');
    for (let c = 0; c < 1000; c++) {
      mkdirSync(join(root, 'components', `c${c}`), { recursive: true });
      writeFileSync(
        join(root, 'components', `c${c}`, 'component.yaml'),
        `name: c${c}\nimplementation:\n  container:\n    command: [sh, /app/run.sh]\nbuild: {image: exit-c${c}, dockerfile: dockerfiles/tiny.Dockerfile}\n`,
      );
    }
    // The reader starts 2 s late, long after the run's work is done: 250 KB wait in the pipe and the process.
    const script = `node '${BIN}' -C '${root}' list --json | { sleep 2; cat; }; echo "exit \${PIPESTATUS[0]}" >&2`;
    const r = await execa('bash', ['-c', script]);
    const rows = JSON.parse(r.stdout) as { component: string }[];
    expect(rows).toHaveLength(1000);
    expect(r.stderr.trim()).toBe('exit 0');
    const bad = await execa('bash', ['-c', `node '${BIN}' -C '${root}' build no-such | { sleep 1; cat; }; echo "exit \${PIPESTATUS[0]}" >&2`]);
    expect(bad.stderr).toMatch(/no-such/);
    expect(bad.stderr.trim().split('\n').pop()).toBe('exit 2');
  });
});
