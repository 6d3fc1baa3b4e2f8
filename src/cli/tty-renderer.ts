import type { HelmetEvent } from '../events.js';
import { eventRenderer, plainLine, type RenderOptions } from './render.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface Live {
  status: string;
  since: number;
}

export interface TtyStream {
  write(s: string): boolean;
  columns?: number;
}

/**
 * Progress for a terminal: finished work scrolls up as plain lines; below it, one live line per
 * component still at work (what it is doing, for how long), redrawn in place.
 */
export class TtyRenderer {
  private readonly live = new Map<string, Live>();
  private drawn = 0;
  private frame = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly out: TtyStream,
    private readonly verbose: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  readonly onEvent = (e: HelmetEvent): void => {
    const component = 'component' in e ? e.component : undefined;
    switch (e.type) {
      case 'context':
        this.set(component!, 'hashing context');
        break;
      case 'build-start':
        this.set(component!, 'building');
        break;
      case 'build-log':
        if (this.verbose) this.print(plainLine(e, true));
        if (!/^Step \d+\/\d+ :/.test(e.line)) return;
        this.set(component!, e.line, false);
        break;
      case 'push-start':
        this.set(component!, `pushing ${e.ref}`);
        break;
      case 'component-done':
      case 'component-failed':
        this.live.delete(component!);
        this.print(plainLine(e, this.verbose));
        return;
      default:
        this.print(plainLine(e, this.verbose));
        return;
    }
    this.redraw();
  };

  /** Start the spinner clock; `close` stops it and leaves no live lines behind. */
  start(): this {
    this.timer = setInterval(() => {
      this.frame++;
      this.redraw();
    }, 120);
    this.timer.unref();
    return this;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }

  private set(component: string, status: string, restart = true): void {
    const prev = this.live.get(component);
    this.live.set(component, { status, since: restart || !prev ? this.now() : prev.since });
  }

  private print(line: string | undefined): void {
    if (line === undefined) return;
    this.clear();
    this.out.write(`${line}\n`);
    this.redraw();
  }

  private clear(): void {
    // Up one line and erase it, once per live line drawn.
    if (this.drawn) this.out.write('\x1b[1A\x1b[2K'.repeat(this.drawn) + '\r');
    this.drawn = 0;
  }

  private redraw(): void {
    this.clear();
    const width = Math.max(20, (this.out.columns ?? 80) - 1);
    const spin = SPINNER[this.frame % SPINNER.length];
    const lines = [...this.live].map(([name, l]) => {
      const head = `${spin} [${name}] `;
      const tail = ` (${Math.floor((this.now() - l.since) / 1000)}s)`;
      // Never wrap: a wrapped line would break the cursor arithmetic of the next redraw.
      return truncate(`${head}${truncate(l.status, width - head.length - tail.length)}${tail}`, width);
    });
    if (lines.length) this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}

function truncate(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  return width < 1 ? '' : `${chars.slice(0, width - 1).join('')}…`;
}

/**
 * Live progress when stderr is a terminal (and not in CI, nor with --json or NO_COLOR-style plain
 * requests); plain lines otherwise. Call `close` when the work is done.
 */
export function progressRenderer(o: RenderOptions, env: NodeJS.ProcessEnv = process.env): { onEvent: (e: HelmetEvent) => void; close: () => void } {
  const err = o.err as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  if (!o.json && err.isTTY && !env.CI && env.TERM !== 'dumb' && !env.HELMET_PLAIN) {
    const tty = new TtyRenderer(err as unknown as TtyStream, o.verbose).start();
    return { onEvent: tty.onEvent, close: () => tty.close() };
  }
  return { onEvent: eventRenderer(o), close: () => {} };
}
