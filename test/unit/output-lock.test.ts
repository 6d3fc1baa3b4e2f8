import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireOutputLock, LOCK_FILE } from '../../src/output/output-lock.js';
import { makeProject, runCli, tinyPipelineProject } from '../support/project.js';
import { tripwire } from '../support/tripwire.js';

describe('one writer of dist/ at a time', () => {
  let engine: Awaited<ReturnType<typeof tripwire>>;
  const savedHost = process.env.DOCKER_HOST;
  beforeAll(async () => {
    engine = await tripwire();
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${engine.port}`;
  });
  afterAll(() => {
    process.env.DOCKER_HOST = savedHost;
    engine.close();
  });

  it('a run while another helmet-build holds dist/ is refused at once: exit 2, names the owner, touches nothing', async () => {
    const p = tinyPipelineProject();
    try {
      // pid 1 always runs: a live owner.
      const lock = `${JSON.stringify({ pid: 1, started: '2026-01-01T00:00:00.000Z' })}\n`;
      const dist = join(p.root, 'dist');
      acquireOutputLock(dist, p.root).release();
      writeFileSync(join(dist, LOCK_FILE), lock);
      const r = await runCli(['all'], p.root);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/dist is being written by another helmet-build \(pid 1, since 2026-01-01T00:00:00.000Z\)/);
      expect(r.stderr).toMatch(/remove dist\/\.helmet-build\.lock/);
      expect(readFileSync(join(dist, LOCK_FILE), 'utf8')).toBe(lock);
      expect(engine.connections()).toBe(0);
    } finally {
      p.cleanup();
    }
  });

  it('a lock left by a process that is gone is taken over, and released at the end', () => {
    const p = makeProject({});
    try {
      const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
      const dist = join(p.root, 'dist');
      acquireOutputLock(dist, p.root).release();
      writeFileSync(join(dist, LOCK_FILE), JSON.stringify({ pid: Number(dead), started: 'then' }));
      const lock = acquireOutputLock(dist, p.root);
      expect(JSON.parse(readFileSync(join(dist, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
      expect(() => acquireOutputLock(dist, p.root)).toThrow(/being written by another helmet-build/);
      lock.release();
      expect(existsSync(join(dist, LOCK_FILE))).toBe(false);
      // A garbled lock file: just made, another run is still writing it; older, its writer died mid-write.
      writeFileSync(join(dist, LOCK_FILE), '{"pi');
      expect(() => acquireOutputLock(dist, p.root)).toThrow(/started a moment ago/);
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(dist, LOCK_FILE), old, old);
      acquireOutputLock(dist, p.root).release();
      expect(existsSync(join(dist, LOCK_FILE))).toBe(false);
    } finally {
      p.cleanup();
    }
  });

  it('bad input is refused before the lock is taken: no dist/ appears', async () => {
    const p = tinyPipelineProject('name: tiny\nsteps: {first: {component: nope}}\n');
    try {
      const r = await runCli(['all'], p.root);
      expect(r.code).toBe(2);
      expect(existsSync(join(p.root, 'dist'))).toBe(false);
    } finally {
      p.cleanup();
    }
  });
});
