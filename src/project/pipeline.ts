import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { pipelineFileSchema, type PipelineFile } from './pipeline-schema.js';
import type { Project } from './project.js';
import { allowedKeysAt } from './schema-keys.js';
import { YamlSource } from './yaml-source.js';

export const PIPELINE_FILE = 'pipeline.yaml';

export interface Pipeline {
  file: string;
  spec: PipelineFile;
  /** Step names, dependencies first (stable: file order among independent steps). */
  order: string[];
}

export function hasPipeline(root: string): boolean {
  return existsSync(join(root, PIPELINE_FILE));
}

/**
 * Load and check pipeline.yaml against the project: steps name existing components, arguments
 * name declared inputs and parameters, required inputs are given, `after` names steps, no cycles.
 */
export function loadPipeline(project: Project): Pipeline {
  const { source, problems } = YamlSource.read(join(project.root, PIPELINE_FILE), PIPELINE_FILE);
  if (!source) throw new ConfigError(problems);
  const parsed = pipelineFileSchema.safeParse(source.toJS());
  if (!parsed.success) {
    throw new ConfigError(source.problemsFrom(parsed.error.issues, (p) => allowedKeysAt(pipelineFileSchema, p)));
  }
  const spec = parsed.data;
  const out: ConfigProblem[] = [];
  const at = (path: (string | number)[], message: string) =>
    out.push({ file: PIPELINE_FILE, ...source.locate(path), path: path.join('.'), message });

  const components = new Map(project.components.map((c) => [c.name, c]));
  const stepNames = Object.keys(spec.steps);
  for (const [name, step] of Object.entries(spec.steps)) {
    const component = components.get(step.component);
    if (!component) {
      at(['steps', name, 'component'], `unknown component "${step.component}" (known: ${[...components.keys()].join(', ')})`);
      continue;
    }
    const inputs = new Map((component.spec.inputs ?? []).map((i) => [i.name, i]));
    for (const [arg, value] of Object.entries(step.args)) {
      if (!inputs.has(arg)) {
        at(['steps', name, 'args', arg], `component ${step.component} has no input "${arg}" (inputs: ${[...inputs.keys()].join(', ')})`);
      }
      if (typeof value === 'object' && !(value.param in spec.parameters)) {
        at(['steps', name, 'args', arg, 'param'], `unknown pipeline parameter "${value.param}" (declared: ${Object.keys(spec.parameters).join(', ') || 'none'})`);
      }
    }
    for (const input of inputs.values()) {
      if (!(input.name in step.args) && input.default === undefined && !input.optional) {
        at(['steps', name, 'args'], `required input "${input.name}" of component ${step.component} is not given`);
      }
    }
    step.after.forEach((dep, i) => {
      if (!stepNames.includes(dep)) at(['steps', name, 'after', i], `unknown step "${dep}" (steps: ${stepNames.join(', ')})`);
      if (dep === name) at(['steps', name, 'after', i], 'a step cannot run after itself');
    });
  }
  if (out.length) throw new ConfigError(out);
  const order = topologicalOrder(spec);
  if (!Array.isArray(order)) {
    at(['steps', order.cycle[0]!, 'after'], `steps form a cycle: ${order.cycle.join(' -> ')}`);
    throw new ConfigError(out);
  }
  return { file: PIPELINE_FILE, spec, order };
}

function topologicalOrder(spec: PipelineFile): string[] | { cycle: string[] } {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  let cycle: string[] | undefined;
  const visit = (name: string): void => {
    if (cycle || state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      cycle = [...stack.slice(stack.indexOf(name)), name];
      return;
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of spec.steps[name]!.after) visit(dep);
    stack.pop();
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(spec.steps)) visit(name);
  return cycle ? { cycle } : order;
}

/** Parameter values for a run: declared defaults overridden by `--param k=v`. */
export function resolveParameters(pipeline: Pipeline, overrides: Record<string, string>): Record<string, string> {
  const unknown = Object.keys(overrides).filter((k) => !(k in pipeline.spec.parameters));
  if (unknown.length) {
    throw new ConfigError(
      unknown.map((k) => ({
        file: '--param',
        path: k,
        message: `unknown pipeline parameter (declared in ${PIPELINE_FILE}: ${Object.keys(pipeline.spec.parameters).join(', ')})`,
      })),
    );
  }
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, p] of Object.entries(pipeline.spec.parameters)) {
    const v = overrides[name] ?? (p.default === undefined ? undefined : String(p.default));
    if (v === undefined) missing.push(name);
    else values[name] = v;
  }
  if (missing.length) {
    throw new ConfigError(missing.map((m) => ({ file: '--param', path: m, message: `has no default in ${PIPELINE_FILE}; pass --param ${m}=VALUE` })));
  }
  return values;
}
