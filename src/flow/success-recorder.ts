/**
 * Records each component as soon as it succeeded (its spec, input record and build.json entry).
 * A record that cannot be written fails that component alone (exit 1, naming the file), never the run.
 */
import { errorRecord, isHelmetError, messageWithHint } from '../errors.js';
import type { EventListener } from '../events.js';
import { type ComponentResult, failedAfter, type SucceededResult } from '../model/component-result.js';
import type { RunRecords } from '../output/records.js';
import type { Plan } from '../plan/plan.js';
import type { Project } from '../project/model.js';

export class SuccessRecorder {
  private readonly writeFailures = new Map<string, ComponentResult>();
  /** Records being written (a spec may have to be rendered first). */
  private readonly pending: Promise<void>[] = [];
  /** A failure no record write should meet (a bug): rethrown once every record is settled. */
  private unexpected?: { error: unknown };
  private readonly byName: Map<string, Project['components'][number]>;

  constructor(
    project: Project,
    private readonly plan: Plan,
    private readonly records: RunRecords | undefined,
    private readonly onEvent: EventListener,
  ) {
    this.byName = new Map(project.components.map((c) => [c.name, c]));
  }

  record(result: SucceededResult): void {
    this.pending.push(
      this.write(result).catch((error: unknown) => {
        this.unexpected ??= { error };
      }),
    );
  }

  private async write(result: SucceededResult): Promise<void> {
    const component = this.byName.get(result.component);
    if (!this.records || !component || this.plan.settings.signal?.aborted) return;
    try {
      await this.records.componentSucceeded(component, result, this.plan.builds.get(result.component)?.inputs);
    } catch (e) {
      if (!isHelmetError(e)) throw e;
      this.onEvent({ type: 'warning', subject: result.component, message: messageWithHint(e) });
      this.writeFailures.set(result.component, failedAfter(result, errorRecord(e)));
    }
  }

  /** The results once every record is written, with the components whose records could not be written as failed. */
  async apply(results: ComponentResult[]): Promise<ComponentResult[]> {
    await Promise.all(this.pending);
    if (this.unexpected) throw this.unexpected.error;
    return results.map((r) => this.writeFailures.get(r.component) ?? r);
  }
}
