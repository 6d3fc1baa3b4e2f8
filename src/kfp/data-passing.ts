/**
 * kfp 1.8.22's `compiler/_data_passing_rewriter.py` (`fix_big_data_passing`), on the Argo Workflow the
 * v1 compiler made: data a container takes as a file is passed as an Argo artifact, every parameter
 * no container reads as a value is pruned, and the structures left empty are dropped — with the
 * compiler's own bookkeeping, so that the package stays equal to what kfp writes.
 */
import type { YamlData } from './pyyaml-dump.js';

type Json = { [key: string]: YamlData };
/** A template's input or output, by template and name. */
type Key = string;

const PLACEHOLDER = /^\{\{[-._a-zA-Z0-9]+\}\}$/;
const parts = (s: string) => (PLACEHOLDER.test(s) ? s.slice(2, -2).split('.') : undefined);
const inputParameterName = (s: string) => /^\{\{inputs\.parameters\.([-_a-zA-Z0-9]+)\}\}$/.exec(s)?.[1];
const allPlaceholders = (x: unknown) => [...new Set([...JSON.stringify(x).matchAll(/\{\{([-._a-zA-Z0-9]+)\}\}/g)].map((m) => m[1]!))];
const key = (template: string, name: string): Key => JSON.stringify([template, name]);
const obj = (x: YamlData | undefined) => (x ?? {}) as Json;
const arr = (x: YamlData | undefined) => (x ?? []) as Json[];
const tasksOf = (t: Json) => (t.dag as Json).tasks as Json[];
const add = (m: Map<Key, Set<Key>>, k: Key, v: Key) => m.set(k, (m.get(k) ?? new Set()).add(v));

/** The workflow's templates by kind. */
interface Templates {
  all: Json[];
  containers: Json[];
  dags: Json[];
  resources: Json[];
}

/** Where each task argument's value comes from: the DAG's own inputs, or another task's outputs. */
interface ArgumentSources {
  toDagInputs: Map<Key, Set<Key>>;
  toTaskOutputs: Map<Key, Set<Key>>;
}

/** Which inputs and outputs travel as parameters, and which as artifacts, after propagation through the DAGs. */
interface Passing {
  inputsAsParameters: Set<Key>;
  inputsAsArtifacts: Set<Key>;
  outputsAsParameters: Set<Key>;
}

export function passFilesAsArtifacts(workflow: Json): Json {
  const spec = workflow.spec as Json;
  const all = spec.templates as Json[];
  const templates: Templates = {
    all,
    containers: all.filter((t) => 'container' in t),
    dags: all.filter((t) => 'dag' in t),
    resources: all.filter((t) => 'resource' in t),
  };
  // Files first: a file input's placeholder leaves the container, and so is no value read.
  const files = takeFileInputs(templates.containers);
  const passing = propagate(argumentSources(templates.dags), readAsValues(templates), files);
  rewriteDagArguments(templates, passing);
  pruneParameters(templates, passing);
  passWorkflowArtifacts(spec, passing);
  dropEmptyStructures(templates.all);
  return workflow;
}

function argumentSources(dags: Json[]): ArgumentSources {
  const sources: ArgumentSources = { toDagInputs: new Map(), toTaskOutputs: new Map() };
  for (const t of dags) {
    const templateOf = new Map(tasksOf(t).map((task) => [task.name as string, task.template as string]));
    for (const task of tasksOf(t)) {
      for (const arg of arr(obj(task.arguments).parameters)) {
        const p = parts(arg.value as string);
        if (!p) continue;
        const target = key(task.template as string, arg.name as string);
        if (p[0] === 'inputs') add(sources.toDagInputs, target, key(t.name as string, p[2]!));
        else if (p[0] === 'tasks') add(sources.toTaskOutputs, target, key(templateOf.get(p[1]!)!, p[4]!));
      }
    }
  }
  return sources;
}

/** The container inputs passed as files (raw artifacts of an input parameter), turned into named artifacts. */
function takeFileInputs(containers: Json[]): Set<Key> {
  const asArtifacts = new Set<Key>();
  for (const t of containers) {
    for (const artifact of arr(obj(t.inputs).artifacts)) {
      const name = inputParameterName((artifact.raw as Json).data as string);
      if (!name) continue;
      asArtifacts.add(key(t.name as string, name));
      delete artifact.raw;
      artifact.name = name;
    }
  }
  return asArtifacts;
}

/** The inputs read as values anywhere outside task arguments, and the task outputs read so. */
function readAsValues(templates: Templates): { inputs: Set<Key>; outputs: Set<Key> } {
  const inputs = new Set<Key>();
  const outputs = new Set<Key>();
  for (const t of templates.dags) {
    const templateOf = new Map(tasksOf(t).map((task) => [task.name as string, task.template as string]));
    for (const task of tasksOf(t)) {
      const { arguments: _args, ...rest } = task;
      for (const ph of allPlaceholders(rest)) {
        const p = ph.split('.');
        if (p[0] === 'inputs' && p[1] === 'parameters') inputs.add(key(t.name as string, p[2]!));
        else if (p[0] === 'tasks') outputs.add(key(templateOf.get(p[1]!)!, p[4]!));
      }
    }
  }
  for (const t of [...templates.containers, ...templates.resources]) {
    for (const ph of allPlaceholders(t)) {
      const p = ph.split('.');
      if (p[0] === 'inputs' && p[1] === 'parameters') inputs.add(key(t.name as string, p[2]!));
    }
  }
  return { inputs, outputs };
}

/** A DAG input that feeds a value (or a file) makes what feeds it a value (or a file) too, up the DAGs. */
function propagate(sources: ArgumentSources, values: { inputs: Set<Key>; outputs: Set<Key> }, files: Set<Key>): Passing {
  const passing: Passing = { inputsAsParameters: new Set(), inputsAsArtifacts: new Set(), outputsAsParameters: new Set() };
  const outputsAsArtifacts = new Set<Key>();
  const markInput = (k: Key, inputs: Set<Key>, outputs: Set<Key>) => {
    if (inputs.has(k)) return;
    inputs.add(k);
    for (const up of sources.toDagInputs.get(k) ?? []) markInput(up, inputs, outputs);
    for (const up of sources.toTaskOutputs.get(k) ?? []) outputs.add(up);
  };
  for (const k of values.inputs) markInput(k, passing.inputsAsParameters, passing.outputsAsParameters);
  for (const k of files) markInput(k, passing.inputsAsArtifacts, outputsAsArtifacts);
  for (const k of values.outputs) passing.outputsAsParameters.add(k);
  return passing;
}

/** DAG inputs and task arguments that carry files become artifacts (from another artifact, or raw text). */
function rewriteDagArguments(templates: Templates, passing: Passing): void {
  const resourceNames = new Set(templates.resources.map((t) => t.name as string));
  for (const t of templates.dags) {
    const name = t.name as string;
    const inputs = obj(t.inputs);
    const inputArtifacts: Json[] = [];
    for (const p of arr(inputs.parameters)) if (passing.inputsAsArtifacts.has(key(name, p.name as string))) inputArtifacts.push({ name: p.name! });
    if (t.inputs) inputs.artifacts = inputArtifacts;
    for (const task of tasksOf(t)) {
      const args = task.arguments as Json | undefined;
      const artifactArgs: Json[] = [];
      for (const p of arr(args?.parameters)) {
        if (!passing.inputsAsArtifacts.has(key(task.template as string, p.name as string))) continue;
        const value = p.value as string;
        const pp = parts(value);
        if (pp && (pp[0] === 'inputs' || pp[0] === 'tasks') && !(pp[0] === 'tasks' && resourceNames.has(pp[1]!))) {
          artifactArgs.push({ name: p.name!, from: value.replace('.parameters.', '.artifacts.') });
        } else artifactArgs.push({ name: p.name!, raw: { data: value } });
      }
      if (args) args.artifacts = artifactArgs;
    }
  }
}

/** Parameters nothing reads as a value are dropped: from inputs, outputs and task arguments. */
function pruneParameters(templates: Templates, passing: Passing): void {
  for (const t of [...templates.containers, ...templates.dags]) {
    const inputs = t.inputs as Json | undefined;
    if (inputs) inputs.parameters = arr(inputs.parameters).filter((p) => passing.inputsAsParameters.has(key(t.name as string, p.name as string)));
    const outputs = t.outputs as Json | undefined;
    if (outputs) outputs.parameters = arr(outputs.parameters).filter((p) => passing.outputsAsParameters.has(key(t.name as string, p.name as string)));
  }
  for (const t of templates.dags) {
    for (const task of tasksOf(t)) {
      const args = task.arguments as Json | undefined;
      if (args) args.parameters = arr(args.parameters).filter((p) => passing.inputsAsParameters.has(key(task.template as string, p.name as string)));
    }
  }
}

/** A workflow parameter the entry DAG takes as a file is also passed as a raw artifact. */
function passWorkflowArtifacts(spec: Json, passing: Passing): void {
  const entry = spec.entrypoint as string;
  const wfArgs = spec.arguments as Json;
  const artifactArgs = arr(wfArgs.parameters)
    .filter((p) => passing.inputsAsArtifacts.has(key(entry, p.name as string)))
    .map((p) => ({ name: p.name!, raw: { data: `{{workflow.parameters.${p.name}}}` } }));
  if (artifactArgs.length) wfArgs.artifacts = artifactArgs;
}

/** `clean_up_empty_workflow_structures`. */
function dropEmptyStructures(templates: Json[]): void {
  const clean = (holder: Json, field: string) => {
    const x = holder[field] as Json | undefined;
    if (!x) return;
    for (const k of ['parameters', 'artifacts']) if (k in x && (x[k] as Json[]).length === 0) delete x[k];
    if (Object.keys(x).length === 0) delete holder[field];
  };
  for (const t of templates) {
    clean(t, 'inputs');
    clean(t, 'outputs');
    if ('dag' in t) for (const task of tasksOf(t)) clean(task, 'arguments');
  }
}
