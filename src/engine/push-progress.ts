/**
 * Byte counts of a push, from the engine's per-layer push stream (`Pushing` with
 * progressDetail.current/total, `Pushed`, `Layer already exists`, `Mounted from <repo>`).
 */
import type { PushProgress } from '../model/push-progress.js';
import type { ProgressMessage } from './progress-stream.js';

interface Layer {
  current: number;
  total: number;
  done: boolean;
}

export class PushProgressTracker {
  private readonly layers = new Map<string, Layer>();

  /** Fold one message in; returns the new totals, or undefined when it said nothing about layers. */
  add(m: ProgressMessage): PushProgress | undefined {
    if (!m.id || !m.status || !/^[0-9a-f]{12,64}$/.test(m.id)) return undefined;
    const layer = this.layers.get(m.id) ?? { current: 0, total: 0, done: false };
    this.layers.set(m.id, layer);
    let finishedLayer: PushProgress['finishedLayer'];
    if (m.status === 'Pushing' && m.progressDetail) {
      layer.current = m.progressDetail.current ?? layer.current;
      layer.total = Math.max(layer.total, m.progressDetail.total ?? 0);
    } else if ((m.status === 'Pushed' || m.status === 'Layer already exists' || m.status.startsWith('Mounted from')) && !layer.done) {
      // "Mounted from": the registry had the blob in another repository and linked it; nothing was uploaded.
      layer.done = true;
      layer.current = layer.total;
      finishedLayer = { id: m.id, bytes: layer.total, existed: m.status !== 'Pushed' };
    }
    const all = [...this.layers.values()];
    return {
      bytes: all.reduce((n, l) => n + (l.done ? l.total : l.current), 0),
      totalBytes: all.reduce((n, l) => n + l.total, 0),
      layers: all.length,
      layersDone: all.filter((l) => l.done).length,
      ...(finishedLayer ? { finishedLayer } : {}),
    };
  }
}
