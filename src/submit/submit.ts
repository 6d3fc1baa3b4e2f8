/**
 * `submit`: the published pipeline to a KFP cluster, as one idempotent step — the pipeline looked up
 * by name (created when missing), a version named from the spec's content (the same spec twice
 * reuses it, a changed spec adds one), the experiment looked up by name (created when missing), a
 * run with parameters typed by pipeline.yaml and, with `wait`, the run followed to its end.
 * Everything that is bad input (parameters, flags, files) is found before the first request.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ExitCode, KfpApiError, KfpUnreachableError, UsageError } from '../errors.js';
import type { EventListener, KfpApi, KfpRunState, KfpValue } from '../events.js';
import { loadProject } from '../project/load-project.js';
import type { Pipeline, PipelineParameter } from '../project/model.js';
import { typedValue } from '../project/model.js';
import { resolveParameters } from '../runner/parameters.js';
import { type CreatedPipeline, type KfpApiClient, type UploadFile, V1beta1Api, V2beta1Api, type VersionRef } from './kfp-api.js';
import { type KfpConnection, kfpConnection } from './kfp-connection.js';
import { KfpHttp } from './kfp-http.js';

export interface SubmitOptions {
  /** The project root. */
  root: string;
  /** Where the specs were written. @default 'dist' (relative to the root) */
  outDir?: string;
  /** The KFP API server. @default KF_PIPELINES_ENDPOINT */
  host?: string;
  /** @default KF_PIPELINES_DEFAULT_EXPERIMENT_NAME, else 'Default' (KF_PIPELINES_OVERRIDE_EXPERIMENT_NAME wins over both, as in kfp.Client) */
  experiment?: string;
  /** @default '<pipeline> <UTC time>' */
  runName?: string;
  /** `--param k=v`, checked against pipeline.yaml. */
  params: Record<string, string>;
  /** The version's name. @default '<pipeline>-<12 hex of the uploaded file's SHA-256>' */
  version?: string;
  /** @default the namespace of ~/.config/kfp/context.json */
  namespace?: string;
  /** @default the API the server answers healthz on, v2beta1 first */
  api?: 'v1' | 'v2';
  wait?: boolean;
  /** Stop waiting after this many seconds (the run goes on). @default no limit */
  timeoutSeconds?: number;
  /** Time between two reads of a waited-for run. @default HELMET_SUBMIT_POLL_SECONDS, else 5 s */
  pollIntervalMs?: number;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Where ~/.config/kfp/context.json is read. @default os.homedir() */
  home?: string;
  signal?: AbortSignal;
  /** @default () => new Date() */
  now?: () => Date;
}

export interface SubmitServices {
  onEvent: EventListener;
}

export interface SubmitResult {
  ok: boolean;
  exitCode: number;
  api: KfpApi;
  pipelineId: string;
  version: string;
  versionId: string;
  experimentId: string;
  runId: string;
  url: string;
  /** The last state seen (with `wait`, the final one unless waiting stopped). */
  state: KfpRunState;
}

const FINAL: Partial<Record<KfpRunState, number>> = { SUCCEEDED: ExitCode.ok, FAILED: ExitCode.failed, CANCELED: ExitCode.failed, SKIPPED: ExitCode.failed };
/** Reads of a waited-for run that may fail in a row (a dropped connection, a restarting API server) before the wait gives up. */
const POLL_FAILURES_TOLERATED = 5;

export async function submit(o: SubmitOptions, services: SubmitServices): Promise<SubmitResult> {
  const env = o.env ?? process.env;
  const onEvent = services.onEvent;
  const now = o.now ?? (() => new Date());

  // Load: every problem of input, before the first request.
  const pipeline = loadProject(o.root).pipeline;
  if (!pipeline) throw new UsageError(`no pipeline.yaml in ${o.root}`, { hint: 'submit uploads the pipeline that pipeline.yaml declares.' });
  const values = typedParameters(pipeline, resolveParameters(pipeline, o.params));
  const connection = kfpConnection({ host: o.host, env, home: o.home });
  const pollMs = o.pollIntervalMs ?? pollInterval(env);
  const outDir = resolve(o.root, o.outDir ?? 'dist');
  const specs = { v2beta1: join(outDir, `${pipeline.name}.yaml`), v1beta1: join(outDir, `${pipeline.name}.v1.yaml`) };
  const forced: KfpApi | undefined = o.api === 'v1' ? 'v1beta1' : o.api === 'v2' ? 'v2beta1' : undefined;
  if (forced) requireSpec(specs[forced], forced, o.root);
  else if (!existsSync(specs.v2beta1) && !existsSync(specs.v1beta1)) requireSpec(specs.v2beta1, 'v2beta1', o.root);

  const http = new KfpHttp(connection, o.signal);
  try {
    const target = await detectApi(http, forced);
    onEvent({
      type: 'submit-target',
      host: connection.host,
      api: target.api,
      chosenBy: forced ? '--api' : 'healthz',
      ...(target.server ? { server: target.server } : {}),
      multiUser: target.multiUser,
      credentials: connection.source,
    });
    const namespace = o.namespace ?? connection.contextNamespace;
    if (target.multiUser && !namespace) {
      throw new UsageError(`KFP ${connection.host} is multi-user: experiments and runs need a namespace`, {
        hint: 'Pass --namespace <your profile namespace> (or set "namespace" in ~/.config/kfp/context.json).',
      });
    }
    const file = requireSpec(specs[target.api], target.api, o.root);
    const content = readFileSync(file);
    checkDeclaredParameters(pipeline, content, file, target.api, o.root);
    const digest = createHash('sha256').update(content).digest('hex');
    const versionName = o.version ?? `${pipeline.name}-${digest.slice(0, 12)}`;
    const api: KfpApiClient = target.api === 'v2beta1' ? new V2beta1Api(http) : new V1beta1Api(http);
    const upload: UploadFile = { name: basename(file), content };

    // Upload: the pipeline by name, the version by name.
    const description = `sha256:${digest} of ${basename(file)}`;
    let action: 'pipeline-created' | 'version-added' | 'version-reused';
    let pipelineRef = await api.findPipeline(pipeline.name);
    let version: VersionRef | undefined;
    if (!pipelineRef) {
      const made = await orFoundAfterConflict(
        () => api.createPipeline(pipeline.name, pipeline.description, upload),
        async (): Promise<CreatedPipeline | undefined> => {
          const found = await api.findPipeline(pipeline.name);
          return found && { pipeline: found };
        },
      );
      pipelineRef = made.pipeline;
      // KFP 1.x named the first version after the pipeline: it is the one asked for when the names agree.
      if (made.firstVersion?.name === versionName) version = made.firstVersion;
      action = 'pipeline-created';
    } else {
      version = await api.findVersion(pipelineRef.id, versionName);
      action = 'version-reused';
    }
    if (version && action === 'version-reused') {
      const held = /sha256:([0-9a-f]{64})/.exec(version.description ?? '')?.[1];
      if (held && held !== digest) {
        throw new UsageError(
          `version ${versionName} of the pipeline ${pipeline.name} holds other content (sha256:${held.slice(0, 12)}…, this spec is sha256:${digest.slice(0, 12)}…)`,
          {
            hint: 'A KFP version never changes: give another --version, or leave it out to name the version from the content.',
          },
        );
      }
    } else if (!version) {
      const pid = pipelineRef.id;
      version = await orFoundAfterConflict(
        () => api.uploadVersion(pid, versionName, description, upload),
        () => api.findVersion(pid, versionName),
      );
      if (action !== 'pipeline-created') action = 'version-added';
    }
    onEvent({
      type: 'submit-uploaded',
      pipeline: pipeline.name,
      pipelineId: pipelineRef.id,
      version: versionName,
      versionId: version.id,
      action,
      file: relative(o.root, file),
      url: `${connection.uiHost}/#/pipelines/details/${pipelineRef.id}/version/${version.id}`,
    });

    // The experiment by name.
    const experimentName = env.KF_PIPELINES_OVERRIDE_EXPERIMENT_NAME || o.experiment || env.KF_PIPELINES_DEFAULT_EXPERIMENT_NAME || 'Default';
    let experiment = await api.findExperiment(experimentName, namespace);
    const created = !experiment;
    if (experiment?.archived) {
      throw new UsageError(`the experiment ${experimentName} is archived: KFP starts no runs in it`, {
        hint: 'Restore it in the KFP UI (Experiments → Archive), or choose another --experiment.',
      });
    }
    experiment ??= await orFoundAfterConflict(
      () => api.createExperiment(experimentName, namespace),
      () => api.findExperiment(experimentName, namespace),
    );
    onEvent({ type: 'submit-experiment', experiment: experimentName, experimentId: experiment.id, created, ...(namespace ? { namespace } : {}) });

    // The run.
    const runName =
      o.runName ??
      `${pipeline.name} ${now()
        .toISOString()
        .replace(/\.\d+Z$/, 'Z')}`;
    const parameters = target.api === 'v2beta1' ? values.typed : values.text;
    const started = await api.createRun({ name: runName, experimentId: experiment.id, pipelineId: pipelineRef.id, versionId: version.id, parameters });
    const url = runUrl(connection, started.id);
    onEvent({ type: 'run-created', runId: started.id, runName, url, parameters });
    const result = {
      api: target.api,
      pipelineId: pipelineRef.id,
      version: versionName,
      versionId: version.id,
      experimentId: experiment.id,
      runId: started.id,
      url,
    };
    if (!o.wait) return { ...result, ok: true, exitCode: ExitCode.ok, state: started.state };
    const end = await waitForRun(api, started.id, url, { pollMs, timeoutSeconds: o.timeoutSeconds, signal: o.signal, onEvent, first: started.state });
    return { ...result, ...end, ok: end.exitCode === ExitCode.ok };
  } finally {
    http.close();
  }
}

function runUrl(connection: KfpConnection, runId: string): string {
  return `${connection.uiHost}/#/runs/details/${runId}`;
}

/** The spec file of an API, or exit 2 naming the command that writes it. */
function requireSpec(path: string, api: KfpApi, root: string): string {
  if (existsSync(path)) return path;
  const rel = relative(root, path);
  if (api === 'v1beta1') {
    throw new UsageError(`${rel} (the KFP v1 package a KFP 1.x server runs) is missing`, {
      hint: 'helmet-build all --push <repo> (or emit --push <repo>) writes it beside the v2 spec; a pipeline only KFP v2 can run has none: submit it to KFP 2.x (--api v2).',
    });
  }
  throw new UsageError(`${rel} (the KFP v2 pipeline spec) is missing`, { hint: 'helmet-build all --push <repo> (or emit --push <repo>) writes it.' });
}

/** Which API the server speaks: v2beta1 when its healthz answers, else v1beta1; `forced` is only checked. */
async function detectApi(http: KfpHttp, forced: KfpApi | undefined): Promise<{ api: KfpApi; multiUser: boolean; server?: string }> {
  for (const api of forced ? [forced] : (['v2beta1', 'v1beta1'] as const)) {
    const req = { method: 'GET' as const, path: `/apis/${api}/healthz`, what: `GET /apis/${api}/healthz` };
    const answer = await http.send(req);
    if (answer.status === 404 && !forced && api === 'v2beta1') continue;
    if (answer.status < 200 || answer.status >= 300) {
      // The same error a call would give (401, 403, KFP's message), or that this API is not there.
      if (answer.status === 404) {
        throw new KfpApiError(`KFP: ${req.what}: 404: no ${api} API here${forced ? '' : ' (neither v2beta1 nor v1beta1)'}`, {
          status: 404,
          hint: forced
            ? `Leave out --api to use the API the server speaks${api === 'v2beta1' ? ' (a KFP 1.x server speaks v1beta1: --api v1)' : ''}.`
            : 'Check that --host names the KFP API server or UI (for a path-prefixed install, include the prefix, e.g. https://host/pipeline).',
        });
      }
      throw http.statusError(req, answer);
    }
    const body = answer.body;
    if (!body || typeof body !== 'object') {
      throw new KfpApiError(`KFP: ${req.what} answered ${answer.status} with something that is not KFP's JSON (a login page?)`, {
        status: answer.status,
        hint: 'Check --host, and the credentials a proxy in front of KFP wants (KF_PIPELINES_COOKIE, KF_PIPELINES_TOKEN).',
      });
    }
    const b = body as Record<string, unknown>;
    const tag = typeof b.tag_name === 'string' && b.tag_name !== 'unknown' ? b.tag_name : undefined;
    return { api, multiUser: b.multi_user === true, ...(tag ? { server: tag } : {}) };
  }
  throw new Error('unreachable: the v1beta1 healthz answers or throws');
}

/** Create, or when another client created the same name at the same time (409), take theirs. */
async function orFoundAfterConflict<T>(create: () => Promise<T>, find: () => Promise<T | undefined>): Promise<T> {
  try {
    return await create();
  } catch (e) {
    if (e instanceof KfpApiError && e.status === 409) {
      const found = await find();
      if (found) return found;
    }
    throw e;
  }
}

/** Parameter values as each API takes them: typed JSON for v2beta1, text for v1beta1 (as kfp 1.8 writes them: `True`, `0.5`). */
function typedParameters(pipeline: Pipeline, values: Record<string, string>): { typed: Record<string, KfpValue>; text: Record<string, string> } {
  const typed: Record<string, KfpValue> = {};
  const text: Record<string, string> = {};
  for (const p of pipeline.parameters) {
    const raw = values[p.name]!;
    const read = typedValue(raw, p.type);
    // resolveParameters checked every value against its type.
    const value = 'value' in read ? read.value : raw;
    typed[p.name] = value;
    text[p.name] = v1Text(value, p);
  }
  return { typed, text };
}

function v1Text(value: KfpValue, p: PipelineParameter): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return p.type === 'NUMBER_DOUBLE' && Number.isInteger(value) ? `${value}.0` : String(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** A spec older than pipeline.yaml (a parameter added since) would run without it: refused, naming the parameter. */
function checkDeclaredParameters(pipeline: Pipeline, content: Buffer, file: string, api: KfpApi, root: string): void {
  const rel = relative(root, file);
  let declared: string[];
  try {
    const doc: unknown = parseAllDocuments(content.toString('utf8'))[0]?.toJS();
    if (!doc || typeof doc !== 'object') throw new Error('no YAML document');
    declared =
      api === 'v2beta1'
        ? Object.keys(at(doc, 'root', 'inputDefinitions', 'parameters') ?? {})
        : ((at(doc, 'spec', 'arguments', 'parameters') as { name?: unknown }[] | undefined) ?? []).map((x) => String(x?.name));
  } catch (e) {
    throw new UsageError(`${rel}: not a pipeline spec (${(e as Error).message})`, {
      hint: 'helmet-build all --push <repo> (or emit --push <repo>) writes it again.',
    });
  }
  const missing = pipeline.parameters.map((p) => p.name).filter((n) => !declared.includes(n));
  if (missing.length) {
    throw new UsageError(`${rel} is older than pipeline.yaml: it has no parameter ${missing.join(', ')}`, {
      hint: 'helmet-build all --push <repo> (or emit --push <repo>) writes it for the current pipeline.yaml.',
    });
  }
}

/** `doc.a.b.c` when every step is an object, else undefined. */
function at(doc: unknown, ...keys: string[]): object | undefined {
  let cur: unknown = doc;
  for (const k of keys) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return cur && typeof cur === 'object' ? cur : undefined;
}

function pollInterval(env: NodeJS.ProcessEnv): number {
  const raw = env.HELMET_SUBMIT_POLL_SECONDS;
  if (raw === undefined) return 5000;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`HELMET_SUBMIT_POLL_SECONDS takes a number of seconds above 0, got "${raw}"`);
  return n * 1000;
}

interface WaitOptions {
  pollMs: number;
  timeoutSeconds?: number;
  signal?: AbortSignal;
  onEvent: EventListener;
  first: KfpRunState;
}

/** Read the run until it ends, reporting each change of state; Ctrl-C and the timeout stop the wait, never the run. */
async function waitForRun(api: KfpApiClient, runId: string, url: string, o: WaitOptions): Promise<{ exitCode: number; state: KfpRunState }> {
  const t0 = Date.now();
  const seconds = () => Math.round((Date.now() - t0) / 100) / 10;
  let state = o.first;
  let raw: string | undefined;
  o.onEvent({ type: 'run-state', runId, state, seconds: 0 });
  let failures = 0;
  for (;;) {
    const final = FINAL[state];
    if (final !== undefined) return { exitCode: final, state };
    const left = o.timeoutSeconds === undefined ? Number.POSITIVE_INFINITY : o.timeoutSeconds * 1000 - (Date.now() - t0);
    if (left <= 0) {
      o.onEvent({ type: 'run-detached', runId, url, reason: 'timeout', seconds: seconds() });
      return { exitCode: ExitCode.failed, state };
    }
    await sleep(Math.min(o.pollMs, left), o.signal);
    if (o.signal?.aborted) {
      o.onEvent({ type: 'run-detached', runId, url, reason: 'interrupted', seconds: seconds() });
      return { exitCode: ExitCode.interrupted, state };
    }
    let run: Awaited<ReturnType<KfpApiClient['getRun']>>;
    try {
      run = await api.getRun(runId);
      failures = 0;
    } catch (e) {
      if (o.signal?.aborted) {
        o.onEvent({ type: 'run-detached', runId, url, reason: 'interrupted', seconds: seconds() });
        return { exitCode: ExitCode.interrupted, state };
      }
      const transient = e instanceof KfpUnreachableError || (e instanceof KfpApiError && e.status >= 500);
      if (transient && ++failures < POLL_FAILURES_TOLERATED) continue;
      throw e;
    }
    if (run.state !== state || run.raw !== raw) {
      state = run.state;
      raw = run.raw;
      o.onEvent({ type: 'run-state', runId, state, ...(raw ? { raw } : {}), seconds: seconds() });
      if (FINAL[state] === ExitCode.failed) {
        for (const t of run.failedTasks) o.onEvent({ type: 'run-task-failed', runId, task: t.task, ...(t.error ? { error: t.error } : {}) });
        if (!run.failedTasks.length && run.error) o.onEvent({ type: 'run-task-failed', runId, task: '(run)', error: run.error });
      }
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal?.aborted) return done();
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      done();
    }
    signal?.addEventListener('abort', finish, { once: true });
  });
}
