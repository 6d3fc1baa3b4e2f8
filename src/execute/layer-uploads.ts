/**
 * Pushes of one run that share layers not yet in the registry, in turn per layer. The engine does
 * not share an upload between two push requests: two images on the same new 1.4 GB base, pushed at
 * once, each upload the base whole. So a push waits until every layer it shares with a push that
 * started earlier (to the same registry) has arrived there — the engine then mounts or skips it —
 * and pushes sharing nothing still run at once. A push only ever waits for earlier ones: no cycle.
 */

/** The engine's push stream names a layer by the first 12 hex digits of its diff ID. */
export function shortLayerId(diffId: string): string {
  return diffId.replace(/^sha256:/, '').slice(0, 12);
}

export class LayerUploads {
  /** registry + short layer id -> settles when the push that sends it has finished that layer, or ended. */
  private readonly arrivals = new Map<string, Promise<void>>();

  /**
   * Run `push` once the layers (diff IDs) it shares with earlier pushes to `registry` have arrived;
   * it calls `arrived(id)` as each of its own layers is finished, releasing the pushes waiting for it.
   */
  async push<T>(registry: string, layers: readonly string[], push: (arrived: (shortId: string) => void) => Promise<T>): Promise<T> {
    const earlier: Promise<void>[] = [];
    const mine = new Map<string, () => void>();
    for (const id of new Set(layers.map(shortLayerId))) {
      const key = `${registry} ${id}`;
      const pending = this.arrivals.get(key);
      if (pending) earlier.push(pending);
      else this.arrivals.set(key, new Promise<void>((resolve) => mine.set(id, resolve)));
    }
    try {
      await Promise.all(earlier);
      return await push((id) => mine.get(id)?.());
    } finally {
      // Ended, pushed or not: a waiting push then sends what this one did not.
      for (const release of mine.values()) release();
    }
  }
}
