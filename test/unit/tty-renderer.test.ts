import { describe, expect, it } from 'vitest';
import { eventRenderer } from '../../src/cli/render.js';
import { progressRenderer, TtyRenderer } from '../../src/cli/tty-renderer.js';
import type { HelmetEvent, JobKind, JobOutcome } from '../../src/events.js';

/** A terminal that applies the renderer's cursor-up/erase codes, so the visible screen can be checked. */
class FakeTerminal {
  /** Rows of the screen; the last one is where the cursor is. */
  lines: string[] = [''];
  columns = 40;
  isTTY = true;
  write(s: string): boolean {
    for (const part of s.split(/(\x1b\[1A\x1b\[2K|\r|\n)/)) {
      if (part === '\x1b[1A\x1b[2K') {
        this.lines.pop();
        this.lines[this.lines.length - 1] = '';
      } else if (part === '\n') this.lines.push('');
      else if (part && part !== '\r') this.lines[this.lines.length - 1] += part;
    }
    return true;
  }
  get screen(): string[] {
    return this.lines.at(-1) === '' ? this.lines.slice(0, -1) : this.lines;
  }
}

const started = (job: string, kind: JobKind, subject: string, title: string): HelmetEvent => ({ type: 'job-started', job, kind, subject, title });
const finished = (job: string, kind: JobKind, subject: string, summary: string, outcome: JobOutcome = 'succeeded'): HelmetEvent => ({
  type: 'job-finished',
  job,
  kind,
  subject,
  outcome,
  seconds: 0,
  summary,
});

/** The events of a `plan` of two components, as the core reports them. */
const PLAN_EVENTS: HelmetEvent[] = [
  started('lookup:a', 'lookup', 'a', 'looking up r/a:in-1'),
  started('lookup:b', 'lookup', 'b', 'looking up r/b:in-2'),
  finished('lookup:a', 'lookup', 'a', 'up to date: r/a@sha256:1'),
  finished('lookup:b', 'lookup', 'b', 'needs a build: no image for its current inputs'),
  { type: 'plan', push: 'r', entries: [] },
];

/** The events of an `all` that builds and pushes one component after the plan above. */
const ALL_EVENTS: HelmetEvent[] = [
  ...PLAN_EVENTS,
  started('build:b', 'build', 'b', 'building r/b:in-2'),
  { type: 'build-step', job: 'build:b', subject: 'b', step: '[1/2] FROM docker.io/library/busybox', state: 'cached' },
  { type: 'build-step', job: 'build:b', subject: 'b', step: '[2/2] RUN make', state: 'started' },
  { type: 'job-progress', job: 'build:b', kind: 'build', subject: 'b', status: '[2/2] RUN make' },
  { type: 'job-log', job: 'build:b', kind: 'build', subject: 'b', line: 'compiling' },
  finished('build:b', 'build', 'b', 'built sha256:2'),
  started('push:b', 'push', 'b', 'pushing r/b:in-2'),
  finished('push:b', 'push', 'b', 'pushed r/b@sha256:2'),
  { type: 'wrote', path: 'dist/build.json' },
];

describe('TtyRenderer', () => {
  it('keeps one live line per running job and scrolls finished work above them', () => {
    const term = new FakeTerminal();
    let now = 0;
    const r = new TtyRenderer(term, false, () => now);
    r.onEvent(started('build:a', 'build', 'a', 'building a:in-1'));
    r.onEvent(started('build:b', 'build', 'b', 'building b:in-2'));
    now = 3000;
    r.onEvent({ type: 'job-progress', job: 'build:b', kind: 'build', subject: 'b', status: 'Step 2/5 : RUN pip install a-very-long-list-of-packages' });
    expect(term.screen).toEqual(['⠋ [a] building a:in-1 (3s)', '⠋ [b] Step 2/5 : RUN pip install … (3s)']);
    r.onEvent({
      type: 'job-finished',
      job: 'build:a',
      kind: 'build',
      subject: 'a',
      outcome: 'failed',
      seconds: 3,
      summary: 'boom',
      error: { code: 'BUILD_FAILED', exitCode: 1, message: 'boom' },
    });
    expect(term.screen).toEqual(['[a] FAILED (BUILD_FAILED): boom', '⠋ [b] Step 2/5 : RUN pip install … (3s)']);
    r.onEvent(finished('build:b', 'build', 'b', 'built sha256:2'));
    r.close();
    expect(term.screen).toEqual(['[a] FAILED (BUILD_FAILED): boom', '[b] built sha256:2']);
  });

  it('after a plan and after a whole run, no live line remains on screen', () => {
    for (const events of [PLAN_EVENTS, ALL_EVENTS]) {
      const term = new FakeTerminal();
      const r = new TtyRenderer(term, false, () => 0);
      events.forEach(r.onEvent);
      // Before close: whatever is on screen is finished work, not a spinner.
      expect(term.screen.filter((l) => /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/.test(l))).toEqual([]);
      r.close();
    }
  });

  it('plain lines and NDJSON carry every job start and finish', () => {
    const plain = new FakeTerminal();
    const onPlain = eventRenderer({ json: false, verbose: false, out: plain as never, err: plain as never });
    ALL_EVENTS.forEach(onPlain);
    expect(plain.screen).toEqual([
      '[a] looking up r/a:in-1',
      '[b] looking up r/b:in-2',
      '[a] up to date: r/a@sha256:1',
      '[b] needs a build: no image for its current inputs',
      'plan:  -> r',
      '[b] building r/b:in-2',
      '[b]   CACHED [1/2] FROM docker.io/library/busybox',
      '[b]   [2/2] RUN make',
      '[b] built sha256:2',
      '[b] pushing r/b:in-2',
      '[b] pushed r/b@sha256:2',
      'wrote dist/build.json',
    ]);
    let out = '';
    const onJson = eventRenderer({ json: true, verbose: false, out: { write: (s: string) => ((out += s), true) } as never, err: plain as never });
    ALL_EVENTS.forEach(onJson);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const jobs = (type: string) => lines.filter((e) => e.type === type).map((e) => e.job);
    expect(jobs('job-started')).toEqual(['lookup:a', 'lookup:b', 'build:b', 'push:b']);
    expect(jobs('job-finished')).toEqual(['lookup:a', 'lookup:b', 'build:b', 'push:b']);
  });

  it('is used only on a terminal outside CI and without --json', () => {
    const term = new FakeTerminal();
    const io = { out: term as unknown as NodeJS.WritableStream, err: term as unknown as NodeJS.WritableStream };
    const tty = progressRenderer({ json: false, verbose: false, ...io }, {});
    tty.onEvent(started('build:a', 'build', 'a', 'building a:1'));
    tty.close();
    expect(term.screen).toEqual([]);
    const plain = new FakeTerminal();
    const ci = progressRenderer({ json: false, verbose: false, out: plain as never, err: plain as never }, { CI: 'true' });
    ci.onEvent(started('build:a', 'build', 'a', 'building a:1'));
    expect(plain.screen).toEqual(['[a] building a:1']);
  });
});
