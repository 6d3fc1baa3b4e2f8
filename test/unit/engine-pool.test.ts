/** The engine pool: where a build of a platform goes, how many at once, and what happens when an engine goes away. */
import { describe, expect, it } from 'vitest';
import type { EngineClient } from '../../src/engine/engine-client.js';
import { EngineUnreachableError } from '../../src/errors.js';
import { EnginePool, type PoolEngine } from '../../src/execute/engine-pool.js';

/** Only ping is asked of an engine by the pool itself. */
function engine(host: string, platforms: string[], builds = 1, answers = true): PoolEngine {
  const client = { ping: async () => (answers ? undefined : Promise.reject(new EngineUnreachableError(`cannot reach ${host}`))) } as unknown as EngineClient;
  return { host, client, platforms, builds };
}

describe('the engine pool', () => {
  it('sends a platform to an engine that builds it natively, and waits for one rather than emulate', async () => {
    const amd = engine('amd', ['linux/amd64']);
    const arm = engine('arm', ['linux/arm64']);
    const pool = new EnginePool([amd, arm]);
    const order: string[] = [];
    let release!: () => void;
    const held = pool.withEngine('linux/arm64', async (l) => {
      order.push(`start ${l.engine.host}`);
      await new Promise<void>((r) => (release = r));
      order.push(`end ${l.engine.host}`);
    });
    await new Promise((r) => setTimeout(r, 10));
    const second = pool.withEngine('linux/arm64', async (l) => order.push(`start ${l.engine.host} again`));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['start arm']);
    release();
    await Promise.all([held, second]);
    expect(order).toEqual(['start arm', 'end arm', 'start arm again']);
  });

  it('emulates a platform no engine builds natively, on the engine with the most free slots, and says so', async () => {
    const pool = new EnginePool([engine('a', ['linux/amd64'], 1), engine('b', ['linux/arm64'], 4)]);
    const lease = await pool.withEngine('linux/s390x', async (l) => l);
    expect(lease.engine.host).toBe('a');
    expect(lease.emulated).toBe(true);
    expect((await pool.withEngine('linux/amd64', async (l) => l)).emulated).toBe(false);
  });

  it('leaves out an engine that does not answer at the start, and reports it once', async () => {
    const gone: string[] = [];
    const pool = new EnginePool([engine('down', ['linux/amd64'], 1, false), engine('up', ['linux/arm64'])], (e) => gone.push(e.host!));
    const lease = await pool.withEngine('linux/amd64', async (l) => l);
    expect(lease.engine.host).toBe('up');
    expect(gone).toEqual(['down']);
  });

  it('tries a build once more on another engine when its engine went away during it; other failures are final', async () => {
    const pool = new EnginePool([engine('a', ['linux/amd64']), engine('b', ['linux/amd64'])]);
    const tried: string[] = [];
    const result = await pool.withEngine('linux/amd64', async (l) => {
      tried.push(l.engine.host!);
      if (tried.length === 1) throw new EngineUnreachableError('lost the engine');
      return 'built';
    });
    expect(result).toBe('built');
    expect(new Set(tried).size).toBe(2);
    await expect(pool.withEngine('linux/amd64', async () => Promise.reject(new Error('step failed')))).rejects.toThrow('step failed');
  });

  it("with no engine answering, the first one's error", async () => {
    const pool = new EnginePool([engine('x', [], 1, false)]);
    await expect(pool.withEngine(undefined, async () => 'never')).rejects.toThrow('cannot reach x');
  });
});
