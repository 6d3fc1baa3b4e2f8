/**
 * Everything a run writes under the output folder, each file atomically: a component's spec and
 * input record as soon as it succeeds, `build.json` (merged with the record of components this run
 * did not touch), and the pipeline spec. Nothing here is written for a component that failed or
 * was interrupted: its earlier files stay as they were.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { InputRecord } from '../context/input-digest.js';
import type { EventListener } from '../events.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { V1ComponentFile } from '../kfp/argo-workflow.js';
import { compiledAtOf, compileTime } from '../kfp/v1-package-meta.js';
import { type ComponentResult, type SucceededResult, succeeded } from '../model/component-result.js';
import type { Component } from '../project/model.js';
import { RenderMemo } from './render-memo.js';

const BUILD_REPORT_VERSION = 2;

export interface BuildReport {
  version: number;
  updatedAt: string;
  push: string | null;
  /** Every component in the report has a good image for its recorded inputs. */
  ok: boolean;
  components: Record<string, ComponentRecord>;
}

export type ComponentRecord = ComponentResult & {
  /** For a failed component: its last good image, when an earlier run recorded one. */
  lastGood?: { image?: string; digest?: string; inputDigest?: string };
};

/** What build.json keeps of a good image, for the record of a later failure. */
function lastGoodOf(r: SucceededResult): NonNullable<ComponentRecord['lastGood']> {
  return { image: r.image, ...(r.pinnedBy === 'registry-digest' ? { digest: r.digest } : {}), ...(r.inputDigest ? { inputDigest: r.inputDigest } : {}) };
}

export class RunRecords {
  private report?: BuildReport;
  private memo?: RenderMemo;
  /** build.json's text as this run last read or wrote it, to tell a write that changes nothing. */
  private reportOnDisk?: string;
  readonly written: string[] = [];

  constructor(
    private readonly root: string,
    readonly outDir: string,
    private readonly push: string | undefined,
    private readonly onEvent: EventListener,
  ) {}

  /** The inputs of a component's last recorded build; a missing or unreadable record is none. */
  previousInputs(component: string): InputRecord | undefined {
    // Checked first: a missing record is the common case of a new component, and an exception per component is slow.
    if (!existsSync(this.inputsPath(component))) return undefined;
    try {
      const record = JSON.parse(readFileSync(this.inputsPath(component), 'utf8')) as InputRecord;
      return typeof record.inputDigest === 'string' && record.entries && record.args ? record : undefined;
    } catch {
      return undefined;
    }
  }

  /** A component succeeded: its spec, its input record and its build.json entry. */
  async componentSucceeded(component: Component, result: SucceededResult, inputs: InputRecord | undefined): Promise<void> {
    // An image of helmet-build.yaml's images: has no KFP spec.
    if (!(component.kind === 'built' && component.imageOnly))
      this.write(this.componentSpecPath(component), await this.componentSpecText(component, result.image));
    if (inputs) this.write(this.inputsPath(component.name), `${JSON.stringify(inputs, null, 2)}\n`);
    this.updateReport([result]);
  }

  /** The run ended (not interrupted): record every result, failures included. */
  runFinished(results: ComponentResult[]): void {
    this.updateReport(results, true);
    this.renders().save();
  }

  /** The pipeline spec `<name>.yaml`, rendered from `inputs` (rendered again only when they changed). */
  async writePipelineSpec(name: string, inputs: unknown, render: () => Promise<string>): Promise<void> {
    const path = join(this.outDir, `${name}.yaml`);
    this.write(path, await this.renders().text(path, inputs, render));
  }

  /** A component's published spec as a KFP v1 user loads it: the text written for this image, and its path. */
  async publishedComponent(component: Component, image: string): Promise<V1ComponentFile> {
    return { image, text: await this.componentSpecText(component, image), url: relative(this.root, this.componentSpecPath(component)) };
  }

  private componentSpecPath(component: Component): string {
    return join(this.outDir, 'components', component.name, 'component.yaml');
  }

  private componentSpecText(component: Component, image: string): Promise<string> {
    return this.renders().text(this.componentSpecPath(component), [component.spec, image, component.file], async () =>
      (await import('../kfp/component-spec.js')).renderComponentSpec(component.spec, image, component.file),
    );
  }

  private renders(): RenderMemo {
    this.memo ??= RenderMemo.open(this.root);
    return this.memo;
  }

  /**
   * The KFP v1 package `<name>.v1.yaml`, rendered for a compile time. When the package already there is
   * this one apart from its compile time, that time is kept, so a re-run with the same inputs leaves the
   * file byte-identical; otherwise the time is now.
   */
  async writePipelinePackage(name: string, inputs: unknown, render: (compiledAt: string) => string | Promise<string>, now: Date = new Date()): Promise<void> {
    const path = join(this.outDir, `${name}.v1.yaml`);
    let previous: string | undefined;
    try {
      previous = readFileSync(path, 'utf8');
    } catch {
      previous = undefined;
    }
    const renderAt = (compiledAt: string) => this.renders().text(path, [inputs, compiledAt], () => render(compiledAt));
    const kept = previous === undefined ? undefined : compiledAtOf(previous);
    const same = kept !== undefined ? await renderAt(kept) : undefined;
    this.write(path, same !== undefined && same === previous ? same : await renderAt(compileTime(now)));
  }

  /**
   * Merge `results` into build.json. While the run goes on, a write that would change nothing but
   * `updatedAt` is left out (a no-op run writes the report once, at its end).
   */
  private updateReport(results: ComponentResult[], runEnded = false): void {
    this.report ??= this.readReport();
    const report = this.report;
    for (const r of results) {
      const before = report.components[r.component];
      if (!succeeded(r)) {
        const good = before && succeeded(before) ? lastGoodOf(before) : before?.lastGood;
        report.components[r.component] = { ...r, ...(good?.image ? { lastGood: good } : {}) };
      } else report.components[r.component] = r;
    }
    report.push = this.push ?? null;
    report.ok = Object.values(report.components).every(succeeded);
    const text = () => `${JSON.stringify(report, null, 2)}\n`;
    if (!runEnded && this.reportOnDisk === text()) return;
    report.updatedAt = new Date().toISOString();
    this.reportOnDisk = text();
    this.write(join(this.outDir, 'build.json'), this.reportOnDisk);
  }

  private readReport(): BuildReport {
    const path = join(this.outDir, 'build.json');
    const empty: BuildReport = { version: BUILD_REPORT_VERSION, updatedAt: '', push: null, ok: true, components: {} };
    if (!existsSync(path)) return empty;
    try {
      const text = readFileSync(path, 'utf8');
      const old = JSON.parse(text) as Partial<BuildReport>;
      // Entries of another push target describe other images: start over rather than mix them.
      if (old.version !== BUILD_REPORT_VERSION || (old.push ?? null) !== (this.push ?? null) || typeof old.components !== 'object') return empty;
      this.reportOnDisk = text;
      return { ...empty, updatedAt: old.updatedAt ?? '', ok: old.ok ?? true, push: old.push ?? null, components: old.components ?? {} };
    } catch {
      return empty;
    }
  }

  private inputsPath(component: string): string {
    return join(this.outDir, 'inputs', `${component}.json`);
  }

  private write(path: string, content: string): void {
    writeFileAtomic(path, content);
    const rel = relative(this.root, path);
    if (!this.written.includes(rel)) this.written.push(rel);
    this.onEvent({ type: 'wrote', path: rel });
  }
}
