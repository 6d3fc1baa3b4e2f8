/**
 * Read and check pipeline.yaml against the loaded components: steps name components, arguments name
 * declared inputs and parameters with values of the right type, required inputs are given, `after`
 * names steps without cycles, and every step's command line is one the pipeline spec can express.
 */
import { join } from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { topologicalOrder } from '../graph/graph.js';
import type { ComponentRead } from './component-file.js';
import { inputReadings } from './input-readings.js';
import { componentV1Problems, pipelineV1Problems } from './kfp-v1.js';
import type { CommandItem, Pipeline, PipelineParameter, PipelineStep, StepArgument, StepInput, StepOutput } from './model.js';
import { ioKind, parameterType, typedValue } from './model.js';
import { type PipelineFile, pipelineFileSchema } from './pipeline-schema.js';
import { readCommandItems, readEnvValue } from './placeholders.js';
import { PIPELINE_FILE } from './project-root.js';
import { allowedKeysAt } from './schema-keys.js';
import { YamlSource } from './yaml-source.js';

/**
 * `components` are the components that loaded cleanly; `folders` every component folder, so that a
 * step naming a component with problems of its own is not also called unknown.
 */
type At = (path: (string | number)[], message: string) => void;
type StepSpec = PipelineFile['steps'][string];
/** A step's component with the inputs and outputs it has as this step sees them. */
interface StepShape {
  read: ComponentRead;
  inputs: StepInput[];
  outputs: StepOutput[];
}

export function readPipelineFile(
  root: string,
  components: Map<string, ComponentRead>,
  folders: readonly string[],
  pipelineFile: string = PIPELINE_FILE,
): { pipeline?: Pipeline; problems: ConfigProblem[] } {
  const { source, problems } = YamlSource.read(join(root, pipelineFile), pipelineFile);
  if (!source) return { problems };
  const { data: spec, problems: invalid } = source.check(pipelineFileSchema, source.toJS(), (p) => allowedKeysAt(pipelineFileSchema, p));
  if (!spec) return { problems: invalid };
  const out: ConfigProblem[] = [];
  const at: At = (path, message) => out.push({ file: pipelineFile, ...source.locate(path), path: path.join('.'), message });

  const parameters = readParameters(spec, at);
  const parameterTypes = new Map(parameters.map((p) => [p.name, p.type]));
  // First every step's component and its inputs and outputs; then the arguments, which may name any step's outputs.
  const shapes = stepShapes(spec, components, folders, at, out);
  const steps = new Map<string, PipelineStep>();
  const dataDependencies = new Map<string, string[]>();
  for (const [name, shape] of shapes) {
    const step = spec.steps[name]!;
    const { args, producers } = stepArguments(name, step, shape, { spec, shapes, parameterTypes }, at);
    dataDependencies.set(name, producers);
    steps.set(name, pipelineStep(name, step, shape, args, producers, spec, out));
  }
  pipelineV1Problems(spec, at);
  for (const [name, { read }] of shapes) {
    componentV1Problems(read.component.spec, new Set(Object.keys(spec.steps[name]!.args)), (path, message) =>
      out.push(read.problemAt(path, `${message} (step ${name})`)),
    );
  }

  const stepNames = Object.keys(spec.steps);
  const sorted = topologicalOrder(stepNames, (s) => [...spec.steps[s]!.after, ...(dataDependencies.get(s) ?? [])].filter((d) => d in spec.steps));
  if (sorted.cycle) at(['steps', sorted.cycle[0]!, 'after'], `steps form a cycle: ${sorted.cycle.join(' -> ')}`);
  if (out.length || !sorted.order) return { problems: dedupe(out) };
  return {
    pipeline: {
      file: pipelineFile,
      name: spec.name,
      description: spec.description,
      parameters,
      volume: spec.volume,
      steps: sorted.order.map((s) => steps.get(s)!),
    },
    problems: [],
  };
}

function readParameters(spec: PipelineFile, at: At): PipelineParameter[] {
  return Object.entries(spec.parameters).map(([name, p]) => {
    const type = parameterType(p.type);
    const typed = p.default === undefined ? undefined : typedValue(p.default, type);
    if (typed && 'error' in typed) at(['parameters', name, 'default'], `${typed.error} (the parameter is of type ${p.type})`);
    return { name, type, default: typed && 'value' in typed ? typed.value : undefined, description: p.description };
  });
}

/** Each step's component, with its inputs and outputs; `after:` names checked on the way. */
function stepShapes(
  spec: PipelineFile,
  components: Map<string, ComponentRead>,
  folders: readonly string[],
  at: At,
  out: ConfigProblem[],
): Map<string, StepShape> {
  const stepNames = Object.keys(spec.steps);
  const shapes = new Map<string, StepShape>();
  for (const [name, step] of Object.entries(spec.steps)) {
    step.after.forEach((dep, i) => {
      if (!stepNames.includes(dep)) at(['steps', name, 'after', i], `unknown step "${dep}" (steps: ${stepNames.join(', ')})`);
      if (dep === name) at(['steps', name, 'after', i], 'a step cannot run after itself');
    });
    const read = components.get(step.component);
    if (!read) {
      if (!folders.includes(step.component)) {
        at(['steps', name, 'component'], `unknown component "${step.component}" (known: ${folders.join(', ')})`);
      }
      continue;
    }
    shapes.set(name, { read, inputs: stepInputs(read, name, out), outputs: stepOutputs(read) });
  }
  return shapes;
}

/** What the arguments of a step take: the pipeline file, every step's shape, the parameters' types. */
interface ArgumentScope {
  spec: PipelineFile;
  shapes: Map<string, StepShape>;
  parameterTypes: Map<string, PipelineParameter['type']>;
}

/** The step's arguments, each checked against the input it binds; the steps whose outputs it takes. */
function stepArguments(name: string, step: StepSpec, shape: StepShape, scope: ArgumentScope, at: At) {
  const byInput = new Map(shape.inputs.map((i) => [i.name, i]));
  const args: Record<string, StepArgument> = {};
  const producers: string[] = [];
  for (const [arg, value] of Object.entries(step.args)) {
    const input = byInput.get(arg);
    const where = ['steps', name, 'args', arg];
    if (!input) {
      at(where, `component ${step.component} has no input "${arg}" (inputs: ${[...byInput.keys()].join(', ') || 'none'})`);
      continue;
    }
    const bound =
      typeof value === 'object' && 'from' in value
        ? taskOutput(step, arg, input, value, scope, where, at)
        : valueArgument(step, arg, input, value, scope, where, at);
    if (!bound) continue;
    args[arg] = bound;
    if (bound.kind === 'task-output') producers.push(bound.step);
  }
  for (const input of shape.inputs) {
    if (!(input.name in step.args) && !input.optional)
      at(['steps', name, 'args'], `required input "${input.name}" of component ${step.component} is not given`);
  }
  return { args, producers };
}

/** `{from: <step>, output: <name>}`: another step's output, of a kind and type the input takes. */
function taskOutput(
  step: StepSpec,
  arg: string,
  input: StepInput,
  value: { from: string; output: string },
  scope: ArgumentScope,
  where: (string | number)[],
  at: At,
): StepArgument | undefined {
  const producer = scope.shapes.get(value.from);
  if (!producer) {
    if (!(value.from in scope.spec.steps)) at([...where, 'from'], `unknown step "${value.from}" (steps: ${Object.keys(scope.spec.steps).join(', ')})`);
    return undefined;
  }
  const output = producer.outputs.find((o) => o.name === value.output);
  if (!output) {
    const names = producer.outputs.map((o) => o.name).join(', ') || 'none';
    at([...where, 'output'], `step ${value.from} (component ${producer.read.component.name}) has no output "${value.output}" (outputs: ${names})`);
    return undefined;
  }
  const mismatch = outputMismatch(input, output);
  if (mismatch) at(where, `${mismatch}: input ${arg} of ${step.component} cannot take output ${value.output} of step ${value.from}`);
  return { kind: 'task-output', step: value.from, output: value.output };
}

/** A pipeline parameter (`{param: <name>}`) or a constant, for an input that takes a value. */
function valueArgument(
  step: StepSpec,
  arg: string,
  input: StepInput,
  value: Exclude<StepSpec['args'][string], { from: string }>,
  scope: ArgumentScope,
  where: (string | number)[],
  at: At,
): StepArgument | undefined {
  if (input.kind === 'artifact') {
    at(where, `input ${arg} of ${step.component} is a file: bind it to another step's output, e.g. {from: <step>, output: <name>}`);
    return undefined;
  }
  if (typeof value === 'object') {
    const paramType = scope.parameterTypes.get(value.param);
    if (paramType === undefined) {
      at([...where, 'param'], `unknown pipeline parameter "${value.param}" (declared: ${[...scope.parameterTypes.keys()].join(', ') || 'none'})`);
    } else if (paramType !== input.type && input.type !== 'STRING') {
      at([...where, 'param'], `parameter "${value.param}" is ${paramType}, but input ${arg} of ${step.component} is ${input.type}`);
    }
    return { kind: 'parameter', parameter: value.param };
  }
  const typed = typedValue(value, input.type);
  if ('error' in typed) {
    at(where, `${typed.error} (input ${arg} of ${step.component} is ${input.type})`);
    return undefined;
  }
  return { kind: 'constant', value: typed.value };
}

/** The step as a run and the specs use it: its command line read against its inputs and outputs. */
function pipelineStep(
  name: string,
  step: StepSpec,
  shape: StepShape,
  args: Record<string, StepArgument>,
  producers: string[],
  spec: PipelineFile,
  out: ConfigProblem[],
): PipelineStep {
  const { read, inputs, outputs } = shape;
  const component = read.component;
  const container = component.spec.implementation.container;
  const io = { inputs: new Map(inputs.map((i) => [i.name, i.kind])), outputs: new Map(outputs.map((o) => [o.name, o.kind])) };
  const problem = (path: (string | number)[], message: string) => out.push(read.problemAt(path, `${message} (step ${name})`));
  const items = (list: typeof container.command, key: string): CommandItem[] | undefined =>
    list && readCommandItems(list, ['implementation', 'container', key], io, problem);
  return {
    name,
    component,
    // Taking another step's output runs after it, as in KFP.
    after: [...new Set([...step.after, ...producers])],
    inputs,
    outputs,
    args,
    command: items(container.command, 'command'),
    commandArgs: items(container.args, 'args'),
    env: Object.entries(container.env ?? {}).map(([env, value]) => ({
      name: env,
      value: readEnvValue(value, ['implementation', 'container', 'env', env], io, problem),
    })),
    resources: step.resources,
    imagePullSecrets: [...new Set([...(spec.imagePullSecrets ?? []), ...(step.imagePullSecrets ?? [])])],
  };
}

/**
 * A component's inputs as a step sees them: parameters with typed defaults, or files. As kfp 1.x
 * reads a v1 component, an input read only with `inputValue` is a value whatever its type name
 * (`GCSPath`, `{GCSPath: {data_type: CSV}}`, `UI metadata`): it is a STRING parameter here.
 */
function stepInputs(read: ComponentRead, step: string, out: ConfigProblem[]): StepInput[] {
  const readings = inputReadings(read.component.spec);
  return (read.component.spec.inputs ?? []).map((input, i) => {
    const declared = ioKind(input.type);
    const readAsValueOnly = readings.get(input.name)?.size === 1 && readings.get(input.name)?.has('value');
    const io = declared.kind === 'artifact' && readAsValueOnly ? ({ kind: 'parameter', type: 'STRING' } as const) : declared;
    const optional = input.optional === true || input.default !== undefined;
    if (io.kind === 'artifact')
      return { name: input.name, kind: 'artifact', type: 'STRING', artifactType: io.artifactType, description: input.description, optional };
    let value: StepInput['default'];
    if (input.default !== undefined && input.default !== null) {
      const typed = typedValue(input.default, io.type);
      if ('error' in typed)
        out.push(read.problemAt(['inputs', i, 'default'], `${typed.error} (input ${input.name} is of type ${String(input.type)}; step ${step} uses it)`));
      else value = typed.value;
    }
    return { name: input.name, kind: 'parameter', type: io.type, description: input.description, default: value, optional };
  });
}

function stepOutputs(read: ComponentRead): StepOutput[] {
  return (read.component.spec.outputs ?? []).map((output) => {
    const io = ioKind(output.type);
    return io.kind === 'parameter'
      ? { name: output.name, kind: 'parameter', type: io.type }
      : { name: output.name, kind: 'artifact', type: 'STRING', artifactType: io.artifactType };
  });
}

/** Why an output cannot feed an input, if it cannot: a file cannot become a value, nor types differ (KFP's own check). */
function outputMismatch(input: StepInput, output: StepOutput): string | undefined {
  if (input.kind !== output.kind) return input.kind === 'artifact' ? 'a value is not a file' : 'a file is not a value';
  if (input.kind === 'parameter') return input.type === output.type || input.type === 'STRING' ? undefined : `${output.type} is not ${input.type}`;
  const want = input.artifactType!.schemaTitle;
  const got = output.artifactType!.schemaTitle;
  return want === 'system.Artifact' || got === 'system.Artifact' || want === got ? undefined : `${got} is not ${want}`;
}

/** Two steps of one component report its file's problems once. */
function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}:${p.line}:${p.column}:${p.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
