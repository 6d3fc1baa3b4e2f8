/**
 * Outputs rendered again from the same inputs, by the same build of helmet-build, are the same
 * text: the memo keeps, per output file, a hash of what its last render was made from and a hash of
 * the text it gave. When both still hold (the inputs hash the same and the file still holds that
 * text) the file's own text stands for the render, and the YAML writers are not run: a no-op run
 * re-renders nothing. Kept in .helmet-cache/; a lost, damaged or foreign memo only means rendering.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BUILD_ID, cacheFile, writeCacheFile } from '../fs/cache-dir.js';

const MEMO_FILE = 'renders-v1.json';

interface MemoFile {
  buildId: string;
  /** By output path relative to the root: [hash of the inputs, hash of the text]. */
  outputs: Record<string, [string, string]>;
}

export class RenderMemo {
  private changed = false;

  private constructor(
    private readonly root: string,
    private readonly buildId: string | undefined,
    private readonly outputs: Record<string, [string, string]>,
  ) {}

  /** The project's memo; an empty one when it is missing, damaged or of another build. */
  static open(root: string, buildId: string | undefined = BUILD_ID): RenderMemo {
    if (!buildId) return new RenderMemo(root, undefined, {});
    try {
      const memo = JSON.parse(readFileSync(cacheFile(root, MEMO_FILE), 'utf8')) as MemoFile;
      if (memo.buildId === buildId && memo.outputs && typeof memo.outputs === 'object') return new RenderMemo(root, buildId, memo.outputs);
    } catch {
      // none yet, or damaged: start empty
    }
    return new RenderMemo(root, buildId, {});
  }

  /** The text of `path` rendered from `inputs` (anything JSON can say): the file's own when it is that render, else `render()`. */
  async text(path: string, inputs: unknown, render: () => string | Promise<string>): Promise<string> {
    if (!this.buildId) return render();
    const key = relative(this.root, path);
    const inputsHash = sha256(JSON.stringify(inputs) ?? '');
    const known = this.outputs[key];
    if (known?.[0] === inputsHash) {
      const current = readOrUndefined(path);
      if (current !== undefined && sha256(current) === known[1]) return current;
    }
    const text = await render();
    this.outputs[key] = [inputsHash, sha256(text)];
    this.changed = true;
    return text;
  }

  /** Keeps the memo for the next run; one that cannot be written costs only speed. */
  save(): void {
    if (!this.buildId || !this.changed) return;
    try {
      writeCacheFile(this.root, MEMO_FILE, JSON.stringify({ buildId: this.buildId, outputs: this.outputs } satisfies MemoFile));
      this.changed = false;
    } catch {
      // A read-only checkout or a full disk: the next run renders again.
    }
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
