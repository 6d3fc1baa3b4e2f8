/**
 * The values a local run gives its steps (each step's value inputs), and which steps `--skip-step`
 * leaves out (with every step after them).
 */
import { UsageError } from '../errors.js';
import { withDependants } from '../graph/graph.js';
import type { Pipeline, PipelineStep } from '../project/model.js';
import { stringValue } from '../project/pipeline-parameters.js';
import { usesExecutorInput } from '../project/placeholders.js';

/** Explicitly skipped steps and, transitively, every step that runs after one. */
export function skippedSteps(pipeline: Pipeline, names: string[]): Set<string> {
  const all = pipeline.steps.map((s) => s.name);
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length) throw new UsageError(`--skip-step names unknown step(s): ${unknown.join(', ')}`, { hint: `Steps: ${all.join(', ')}` });
  const after = new Map(pipeline.steps.map((s) => [s.name, s.after]));
  return withDependants(names, all, (n) => after.get(n) ?? []);
}

/**
 * Values of a step's value inputs: its arguments (pipeline parameters, constants, or small values
 * other steps wrote), else the component's defaults. File inputs are paths, not values.
 */
export function inputValues(step: PipelineStep, params: Record<string, string>, readOutput: (step: string, output: string) => string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const input of step.inputs) {
    if (input.kind === 'artifact') continue;
    const arg = step.args[input.name];
    if (arg?.kind === 'parameter') values[input.name] = params[arg.parameter]!;
    else if (arg?.kind === 'constant') values[input.name] = stringValue(arg.value);
    else if (arg?.kind === 'task-output') values[input.name] = readOutput(arg.step, arg.output);
    else if (input.default !== undefined) values[input.name] = stringValue(input.default);
  }
  return values;
}

/** KFP's launcher writes the executor input of a step; a local run has none to give. */
export function checkExecutorInput(toRun: PipelineStep[]): void {
  const wanting = toRun.filter((s) => usesExecutorInput([...(s.command ?? []), ...(s.commandArgs ?? []), ...s.env.map((e) => e.value)])).map((s) => s.name);
  if (wanting.length === 0) return;
  throw new UsageError(`step(s) ${wanting.join(', ')} take {executorInput}, which only KFP's launcher provides`, {
    hint: `Run the pipeline spec on KFP, or skip them here with ${wanting.map((s) => `--skip-step ${s}`).join(' ')}.`,
  });
}
