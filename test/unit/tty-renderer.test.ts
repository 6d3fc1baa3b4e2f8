import { describe, expect, it } from 'vitest';
import { TtyRenderer, progressRenderer } from '../../src/cli/tty-renderer.js';

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

describe('TtyRenderer', () => {
  it('keeps one live line per busy component and scrolls finished work above them', () => {
    const term = new FakeTerminal();
    let now = 0;
    const r = new TtyRenderer(term, false, () => now);
    r.onEvent({ type: 'plan', components: ['a', 'b'] });
    r.onEvent({ type: 'build-start', component: 'a', tags: ['a:in-1'] });
    r.onEvent({ type: 'build-start', component: 'b', tags: ['b:in-2'] });
    now = 3000;
    r.onEvent({ type: 'build-log', component: 'b', line: 'Step 2/5 : RUN pip install a-very-long-list-of-packages' });
    expect(term.screen).toEqual(['helmet-build: 2 component(s): a, b (local images; no --push)', '⠋ [a] building (3s)', '⠋ [b] Step 2/5 : RUN pip install … (3s)']);
    r.onEvent({ type: 'component-failed', component: 'a', code: 'BUILD_FAILED', message: 'boom' });
    expect(term.screen).toEqual(['helmet-build: 2 component(s): a, b (local images; no --push)', '[a] FAILED (BUILD_FAILED): boom', '⠋ [b] Step 2/5 : RUN pip install … (3s)']);
    r.onEvent({ type: 'component-done', component: 'b', action: 'pushed', image: 'r/b@sha256:1' });
    r.close();
    expect(term.screen).toEqual([
      'helmet-build: 2 component(s): a, b (local images; no --push)',
      '[a] FAILED (BUILD_FAILED): boom',
      '[b] pushed: r/b@sha256:1',
    ]);
  });

  it('is used only on a terminal outside CI and without --json', () => {
    const term = new FakeTerminal();
    const io = { out: term as unknown as NodeJS.WritableStream, err: term as unknown as NodeJS.WritableStream };
    const tty = progressRenderer({ json: false, verbose: false, ...io }, {});
    tty.onEvent({ type: 'build-start', component: 'a', tags: ['a:1'] });
    tty.close();
    expect(term.screen).toEqual([]);
    const plain = new FakeTerminal();
    const ci = progressRenderer({ json: false, verbose: false, out: plain as never, err: plain as never }, { CI: 'true' });
    ci.onEvent({ type: 'build-start', component: 'a', tags: ['a:1'] });
    expect(plain.screen).toEqual(['[a] building a:1']);
  });
});
