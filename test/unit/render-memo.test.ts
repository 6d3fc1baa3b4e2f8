/**
 * The render memo: a file rendered from the same inputs by the same build is not rendered again
 * while it still holds that render; new inputs, a file edited by hand or another build render anew.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RenderMemo } from '../../src/output/render-memo.js';

describe('RenderMemo', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  function root(): string {
    const dir = mkdtempSync(join(tmpdir(), 'helmet-memo-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'dist'));
    return dir;
  }
  /** One run: renders `inputs` into dist/spec.yaml through the memo, writes it, saves the memo; how often it rendered. */
  async function run(dir: string, inputs: unknown, buildId = 'build-1'): Promise<{ text: string; rendered: number }> {
    const memo = RenderMemo.open(dir, buildId);
    let rendered = 0;
    const path = join(dir, 'dist', 'spec.yaml');
    const text = await memo.text(path, inputs, () => {
      rendered++;
      return `spec of ${JSON.stringify(inputs)}\n`;
    });
    writeFileSync(path, text);
    memo.save();
    return { text, rendered };
  }

  it('the same inputs: the file stands for the render', async () => {
    const dir = root();
    expect((await run(dir, { image: 'a@sha256:1' })).rendered).toBe(1);
    const again = await run(dir, { image: 'a@sha256:1' });
    expect(again).toEqual({ text: 'spec of {"image":"a@sha256:1"}\n', rendered: 0 });
  });

  it('new inputs, a file edited by hand, or another build: rendered again', async () => {
    const dir = root();
    await run(dir, { image: 'a@sha256:1' });
    expect((await run(dir, { image: 'a@sha256:2' })).rendered).toBe(1);
    writeFileSync(join(dir, 'dist', 'spec.yaml'), 'edited by hand\n');
    expect(await run(dir, { image: 'a@sha256:2' })).toEqual({ text: 'spec of {"image":"a@sha256:2"}\n', rendered: 1 });
    expect((await run(dir, { image: 'a@sha256:2' }, 'build-2')).rendered).toBe(1);
    rmSync(join(dir, 'dist', 'spec.yaml'));
    expect((await run(dir, { image: 'a@sha256:2' }, 'build-2')).rendered).toBe(1);
  });

  it('without a build id (the sources) it always renders and keeps nothing', async () => {
    const dir = root();
    let rendered = 0;
    for (let i = 0; i < 2; i++) {
      const memo = RenderMemo.open(dir, undefined);
      writeFileSync(join(dir, 'dist', 'spec.yaml'), await memo.text(join(dir, 'dist', 'spec.yaml'), 1, () => `${++rendered}`));
      memo.save();
    }
    expect(rendered).toBe(2);
    expect(existsSync(join(dir, '.helmet-cache'))).toBe(false);
  });
});
