import { describe, expect, it } from 'vitest';
import { LayerUploads, shortLayerId } from '../../src/execute/layer-uploads.js';

const BASE = `sha256:${'a'.repeat(64)}`;
const OWN_A = `sha256:${'b'.repeat(64)}`;
const OWN_B = `sha256:${'c'.repeat(64)}`;

/** A push that records when it starts and finishes layers only when told to. */
function controlledPush(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  let arrive!: (id: string) => void;
  const push = async (arrived: (id: string) => void) => {
    log.push(`${name} starts`);
    arrive = arrived;
    await done;
    log.push(`${name} ends`);
    return name;
  };
  return { push, finish: () => finish(), arrive: (id: string) => arrive(id) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('pushes that share layers', () => {
  it('a later push sharing a layer starts once that layer arrived, not when the earlier push ends', async () => {
    const uploads = new LayerUploads();
    const log: string[] = [];
    const a = controlledPush(log, 'a');
    const b = controlledPush(log, 'b');
    const pa = uploads.push('reg', [BASE, OWN_A], a.push);
    const pb = uploads.push('reg', [BASE, OWN_B], b.push);
    await tick();
    expect(log).toEqual(['a starts']);
    a.arrive(shortLayerId(OWN_A));
    await tick();
    expect(log).toEqual(['a starts']);
    a.arrive(shortLayerId(BASE));
    await tick();
    expect(log).toEqual(['a starts', 'b starts']);
    b.finish();
    a.finish();
    expect(await Promise.all([pa, pb])).toEqual(['a', 'b']);
  });

  it('pushes sharing nothing, or to other registries, run at once', async () => {
    const uploads = new LayerUploads();
    const log: string[] = [];
    const a = controlledPush(log, 'a');
    const b = controlledPush(log, 'b');
    const c = controlledPush(log, 'c');
    const all = [uploads.push('reg', [OWN_A], a.push), uploads.push('reg', [OWN_B], b.push), uploads.push('other', [OWN_A], c.push)];
    await tick();
    expect(log.sort()).toEqual(['a starts', 'b starts', 'c starts']);
    for (const p of [a, b, c]) p.finish();
    await Promise.all(all);
  });

  it('an earlier push that fails releases the pushes waiting for it, which then send the layer themselves', async () => {
    const uploads = new LayerUploads();
    const failing = uploads.push('reg', [BASE], async () => {
      await tick();
      throw new Error('registry went away');
    });
    let started = false;
    const waiting = uploads.push('reg', [BASE], async () => {
      started = true;
      return 'sent';
    });
    await expect(failing).rejects.toThrow('registry went away');
    expect(await waiting).toBe('sent');
    expect(started).toBe(true);
  });

  it('names layers as the engine push stream does: 12 hex digits of the diff ID', () => {
    expect(shortLayerId(`sha256:0123456789abcdef${'0'.repeat(48)}`)).toBe('0123456789ab');
  });
});
