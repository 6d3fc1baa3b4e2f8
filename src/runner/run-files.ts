/**
 * The files steps pass to each other in a local run. Each run gets a folder on this machine,
 * mounted into every step at RUN_FILES_MOUNT; a step writes output `o` to `<mount>/<step>/<o>`
 * (its folder made beforehand, as KFP's launcher does), and a step that takes it reads that path.
 * A small value (a parameter output) is a file too, whose content is the value.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StepOutputMissingError } from '../errors.js';
import type { CommandItem, Pipeline, PipelineStep } from '../project/model.js';
import { type LocalFiles, sanitizeInputName } from '../project/placeholders.js';

export const RUN_FILES_MOUNT = '/helmet/run';

export class RunFiles {
  readonly folder: string;

  private constructor(pipeline: string) {
    this.folder = mkdtempSync(join(tmpdir(), `helmet-run-${pipeline}-`));
    // Steps may run as any user: the folders they write into are open to all (the run's own, and temporary).
    chmodSync(this.folder, 0o777);
  }

  /** A folder for the run when a step passes files; undefined when none does. */
  static forPipeline(pipeline: Pipeline): RunFiles | undefined {
    const passesFiles = pipeline.steps.some((s) => referencedOutputs(s).length > 0 || Object.values(s.args).some((a) => a.kind === 'task-output'));
    return passesFiles ? new RunFiles(pipeline.name) : undefined;
  }

  /** Paths inside the step's container for its file inputs and its outputs. */
  pathsFor(step: PipelineStep): LocalFiles {
    const files: LocalFiles = { inputs: {}, outputs: {} };
    for (const [input, arg] of Object.entries(step.args)) {
      if (arg.kind === 'task-output') files.inputs[input] = `${RUN_FILES_MOUNT}/${arg.step}/${sanitizeInputName(arg.output)}`;
    }
    for (const output of step.outputs) files.outputs[output.name] = `${RUN_FILES_MOUNT}/${step.name}/${sanitizeInputName(output.name)}`;
    return files;
  }

  /** Make the step's output folder before it runs. */
  prepare(step: PipelineStep): void {
    mkdirSync(join(this.folder, step.name), { recursive: true });
    chmodSync(join(this.folder, step.name), 0o777);
  }

  /** After the step succeeded: every output its command line names must have been written. */
  checkOutputs(step: PipelineStep): void {
    for (const output of referencedOutputs(step)) {
      const path = join(this.folder, step.name, sanitizeInputName(output));
      if (!existsSync(path)) {
        throw new StepOutputMissingError(
          `step ${step.name} succeeded but did not write its output "${output}" (to ${RUN_FILES_MOUNT}/${step.name}/${sanitizeInputName(output)})`,
          {
            hint: `Make ${step.component.file}'s program write the file at the path it is given for ${output}.`,
          },
        );
      }
    }
  }

  /** The value of a parameter output another step wrote: a string as written, numbers and the like without surrounding whitespace. */
  readValue(step: PipelineStep, output: string): string {
    const text = readFileSync(join(this.folder, step.name, sanitizeInputName(output)), 'utf8');
    return step.outputs.find((o) => o.name === output)?.type === 'STRING' ? text : text.trim();
  }

  /** Every output file written so far, with where it is on this machine. */
  list(pipeline: Pipeline): { step: string; output: string; path: string; bytes: number }[] {
    return pipeline.steps.flatMap((s) =>
      s.outputs.flatMap((o) => {
        const path = join(this.folder, s.name, sanitizeInputName(o.name));
        return existsSync(path) ? [{ step: s.name, output: o.name, path, bytes: statSync(path).size }] : [];
      }),
    );
  }

  remove(): void {
    rmSync(this.folder, { recursive: true, force: true });
  }
}

/** The outputs a step's command line and env name (only those can be written). */
function referencedOutputs(step: PipelineStep): string[] {
  const found = new Set<string>();
  const visit = (item: CommandItem): void => {
    if (item.kind === 'output-file') found.add(item.output);
    else if (item.kind === 'concat') item.parts.forEach(visit);
    else if (item.kind === 'if-present') [...item.then, ...item.else].forEach(visit);
  };
  [...(step.command ?? []), ...(step.commandArgs ?? []), ...step.env.map((e) => e.value)].forEach(visit);
  return [...found];
}
