/** The live terminal view of core events. */
import type { HelmetEvent } from '../events.js';
import { eventRenderer, plainLine, pushStatus, type RenderOptions } from './render.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface Live {
  subject: string;
  status: string;
  since: number;
}

export interface TtyStream {
  write(s: string): boolean;
  columns?: number;
}

/**
 * Progress for a terminal: finished work scrolls up as plain lines; below it, one live line per
 * running job (what it is doing, for how long), redrawn in place. Live lines exist exactly between
 * a job's start and its end, so none can outlive the work.
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
    switch (e.type) {
      case 'job-started':
        this.live.set(e.job, { subject: e.subject, status: e.title, since: this.now() });
        this.redraw();
        return;
      case 'job-progress': {
        const l = this.live.get(e.job);
        if (l) l.status = e.status;
        this.redraw();
        return;
      }
      case 'push-progress': {
        const l = this.live.get(e.job);
        if (l) l.status = pushStatus(e);
        this.redraw();
        return;
      }
      case 'build-step':
        // The live line follows the running step; what came from the cache is a finished fact worth a line.
        if (e.state === 'cached') this.print(plainLine(e, this.verbose));
        return;
      case 'job-finished':
        this.live.delete(e.job);
        // A lookup that found its answer says so in the plan; only its failure needs a line here.
        if (e.kind === 'lookup' && e.outcome !== 'failed') this.redraw();
        else this.print(plainLine(e, this.verbose));
        return;
      default:
        this.print(plainLine(e, this.verbose));
    }
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

  private print(line: string | undefined): void {
    if (line === undefined) return;
    this.clear();
    this.out.write(`${line}\n`);
    this.redraw();
  }

  private clear(): void {
    // Up one line and erase it, once per live line drawn.
    if (this.drawn) this.out.write(`${'\x1b[1A\x1b[2K'.repeat(this.drawn)}\r`);
    this.drawn = 0;
  }

  private redraw(): void {
    this.clear();
    // A pseudo-terminal without a size reports 0 columns: take the usual 80.
    const width = Math.max(20, (this.out.columns || 80) - 1);
    const spin = SPINNER[this.frame % SPINNER.length];
    const lines = [...this.live.values()].map((l) => {
      const head = `${spin} [${l.subject}] `;
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
 * Live progress when stderr is a terminal (and not in CI, with TERM=dumb, --json or HELMET_PLAIN
 * set); plain lines otherwise. Call `close` when the work is done.
 */
export function progressRenderer(o: RenderOptions, env: NodeJS.ProcessEnv = process.env): { onEvent: (e: HelmetEvent) => void; close: () => void } {
  const err = o.err as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  if (!o.json && err.isTTY && !env.CI && env.TERM !== 'dumb' && !env.HELMET_PLAIN) {
    const tty = new TtyRenderer(err as unknown as TtyStream, o.verbose).start();
    return { onEvent: tty.onEvent, close: () => tty.close() };
  }
  return { onEvent: eventRenderer(o), close: () => {} };
}
