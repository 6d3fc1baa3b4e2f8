/**
 * The engines a run builds on, and their build slots. Without `engines:` there is one: DOCKER_HOST's,
 * with as many slots as the run builds at once. With it, each build of a platform goes to an engine
 * that builds that platform natively (the one with the most free slots), else — when no engine does —
 * to any engine, which emulates it. Engines are pinged once, on the first build: one that does not
 * answer is reported and left out while others remain; a build that fails because its engine went
 * away is tried once more on another.
 */
import type { EngineClient } from '../engine/engine-client.js';
import { EngineUnreachableError, isHelmetError } from '../errors.js';

export interface PoolEngine {
  /** As `engines:` writes it; undefined for DOCKER_HOST's engine, the one engine of a run without `engines:`. */
  host?: string;
  client: EngineClient;
  /** Platforms it builds natively; empty for the one engine of a run without `engines:`. */
  platforms: string[];
  /** Builds it takes at once. */
  builds: number;
}

/** An engine held for one build. */
export interface EngineLease {
  engine: PoolEngine;
  /** The platform is not among the engine's native ones: BuildKit runs it under emulation. */
  emulated: boolean;
}

export class EnginePool {
  private readonly inUse = new Map<PoolEngine, number>();
  private readonly gone = new Set<PoolEngine>();
  private readonly waiting: (() => void)[] = [];
  private started?: Promise<void>;

  constructor(
    readonly engines: PoolEngine[],
    /** Called once for each engine left out, with why. */
    private readonly onGone: (engine: PoolEngine, error: Error) => void = () => undefined,
  ) {}

  /** Run `work` on an engine for `platform` (undefined: the engine's own), holding one of its slots. */
  async withEngine<T>(platform: string | undefined, work: (lease: EngineLease) => Promise<T>): Promise<T> {
    const first = await this.acquire(platform);
    try {
      return await work(first);
    } catch (e) {
      if (!(e instanceof EngineUnreachableError) || this.live().length < 2) throw e;
      this.leaveOut(first.engine, e);
    } finally {
      this.release(first.engine);
    }
    const second = await this.acquire(platform);
    try {
      return await work(second);
    } finally {
      this.release(second.engine);
    }
  }

  /** The first engine that answers: it pushes what an earlier run built (with one engine, the only one). */
  async first(): Promise<EngineClient> {
    this.started ??= this.start();
    await this.started;
    const live = this.live()[0];
    if (!live) throw new EngineUnreachableError('no engine of this run answers any more');
    return live.client;
  }

  /** The engine that answers to `host`. */
  clientOf(host: string): EngineClient {
    const found = this.engines.find((e) => e.host === host);
    if (!found) throw new Error(`no engine ${host} in this run`);
    return found.client;
  }

  /** Builds at once over every engine. */
  slots(): number {
    return this.engines.reduce((n, e) => n + e.builds, 0);
  }

  private async acquire(platform: string | undefined): Promise<EngineLease> {
    this.started ??= this.start();
    await this.started;
    for (;;) {
      const live = this.live();
      if (!live.length) throw new EngineUnreachableError('no engine of this run answers any more');
      const native = platform ? live.filter((e) => e.platforms.includes(platform)) : [];
      const candidates = native.length ? native : live;
      const free = candidates.filter((e) => this.used(e) < e.builds).sort((a, b) => this.used(a) / a.builds - this.used(b) / b.builds);
      const engine = free[0];
      if (engine) {
        this.inUse.set(engine, this.used(engine) + 1);
        return { engine, emulated: platform !== undefined && engine.platforms.length > 0 && !engine.platforms.includes(platform) };
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(engine: PoolEngine): void {
    this.inUse.set(engine, this.used(engine) - 1);
    for (const wake of this.waiting.splice(0)) wake();
  }

  private used(engine: PoolEngine): number {
    return this.inUse.get(engine) ?? 0;
  }

  private live(): PoolEngine[] {
    return this.engines.filter((e) => !this.gone.has(e));
  }

  private leaveOut(engine: PoolEngine, error: Error): void {
    if (this.gone.has(engine)) return;
    this.gone.add(engine);
    this.onGone(engine, error);
    for (const wake of this.waiting.splice(0)) wake();
  }

  /** Ping every engine at once; with several, those that do not answer are left out, and none answering is the first one's error. */
  private async start(): Promise<void> {
    const answers = await Promise.allSettled(this.engines.map((e) => e.client.ping()));
    const failures = answers.flatMap((a, i) => (a.status === 'rejected' ? [{ engine: this.engines[i]!, error: a.reason as Error }] : []));
    if (failures.length === this.engines.length) throw failures[0]!.error;
    for (const { engine, error } of failures) {
      if (!isHelmetError(error)) throw error;
      this.leaveOut(engine, error);
    }
  }
}
