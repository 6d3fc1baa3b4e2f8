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
import { ExitCode, UsageError } from '../errors.js';
import type { EventListener, KfpApi, KfpRunState } from '../events.js';
import { loadProject } from '../project/load-project.js';
import type { Pipeline } from '../project/model.js';
import { resolveParameters } from '../project/pipeline-parameters.js';
import { type KfpApiClient, V1beta1Api, V2beta1Api } from './kfp-api.js';
import { type KfpConnection, kfpConnection } from './kfp-connection.js';
import { KfpHttp } from './kfp-http.js';
import { detectApi } from './kfp-target.js';
import { checkDeclaredParameters, pollInterval, requireSpec, typedParameters } from './submit-inputs.js';
import { ensureExperiment, ensurePipelineVersion } from './submit-steps.js';
import { waitForRun } from './wait-for-run.js';

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

export async function submit(o: SubmitOptions, services: SubmitServices): Promise<SubmitResult> {
  const env = o.env ?? process.env;
  const { onEvent } = services;
  // Load: every problem of input, before the first request.
  const inputs = loadSubmitInputs(o, env);
  const { pipeline, connection, specs, forced } = inputs;
  // Connections belong to the shared HTTP client's keep-alive agents: idle ones never hold the process.
  const http = new KfpHttp(connection, o.signal);
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
  const api: KfpApiClient = target.api === 'v2beta1' ? new V2beta1Api(http) : new V1beta1Api(http);
  const uploaded = await upload(api, pipeline, specs[target.api], target.api, o, connection, onEvent);
  const experimentName = env.KF_PIPELINES_OVERRIDE_EXPERIMENT_NAME || o.experiment || env.KF_PIPELINES_DEFAULT_EXPERIMENT_NAME || 'Default';
  const experiment = await ensureExperiment(api, experimentName, namespace, onEvent);
  const runName =
    o.runName ??
    `${pipeline.name} ${(o.now ?? (() => new Date()))()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')}`;
  const parameters = target.api === 'v2beta1' ? inputs.values.typed : inputs.values.text;
  const ids = { experimentId: experiment.id, pipelineId: uploaded.pipelineId, versionId: uploaded.version.id };
  const started = await api.createRun({ name: runName, ...ids, parameters });
  const url = runUrl(connection, started.id);
  onEvent({ type: 'run-created', runId: started.id, runName, url, parameters });
  const result = {
    api: target.api,
    pipelineId: ids.pipelineId,
    version: uploaded.versionName,
    versionId: ids.versionId,
    experimentId: ids.experimentId,
    runId: started.id,
    url,
  };
  if (!o.wait) return { ...result, ok: true, exitCode: ExitCode.ok, state: started.state };
  const waited = { pollMs: inputs.pollMs, timeoutSeconds: o.timeoutSeconds, signal: o.signal, onEvent, first: started.state };
  const end = await waitForRun(api, started.id, url, waited);
  return { ...result, ...end, ok: end.exitCode === ExitCode.ok };
}

/** Everything `submit` reads before it sends anything: the pipeline, its parameters, where the server is, which spec files exist. */
function loadSubmitInputs(o: SubmitOptions, env: NodeJS.ProcessEnv) {
  const pipeline = loadProject(o.root).pipeline;
  if (!pipeline) throw new UsageError(`no pipeline.yaml in ${o.root}`, { hint: 'submit uploads the pipeline that pipeline.yaml declares.' });
  const values = typedParameters(pipeline, resolveParameters(pipeline, o.params));
  const connection = kfpConnection({ host: o.host, env, home: o.home });
  const pollMs = o.pollIntervalMs ?? pollInterval(env);
  const outDir = resolve(o.root, o.outDir ?? 'dist');
  const specs: Record<KfpApi, string> = { v2beta1: join(outDir, `${pipeline.name}.yaml`), v1beta1: join(outDir, `${pipeline.name}.v1.yaml`) };
  const forced: KfpApi | undefined = o.api === 'v1' ? 'v1beta1' : o.api === 'v2' ? 'v2beta1' : undefined;
  if (forced) requireSpec(specs[forced], forced, o.root);
  else if (!existsSync(specs.v2beta1) && !existsSync(specs.v1beta1)) requireSpec(specs.v2beta1, 'v2beta1', o.root);
  return { pipeline, values, connection, pollMs, specs, forced };
}

/** The spec of the API the server speaks, uploaded as a version named from its content (or --version). */
async function upload(
  api: KfpApiClient,
  pipeline: Pipeline,
  spec: string,
  target: KfpApi,
  o: SubmitOptions,
  connection: KfpConnection,
  onEvent: EventListener,
) {
  const file = requireSpec(spec, target, o.root);
  const content = readFileSync(file);
  checkDeclaredParameters(pipeline, content, file, target, o.root);
  const digest = createHash('sha256').update(content).digest('hex');
  const versionName = o.version ?? `${pipeline.name}-${digest.slice(0, 12)}`;
  const uploaded = await ensurePipelineVersion(api, pipeline, { name: basename(file), content }, versionName, digest);
  onEvent({
    type: 'submit-uploaded',
    pipeline: pipeline.name,
    pipelineId: uploaded.pipelineId,
    version: versionName,
    versionId: uploaded.version.id,
    action: uploaded.action,
    file: relative(o.root, file),
    url: `${connection.uiHost}/#/pipelines/details/${uploaded.pipelineId}/version/${uploaded.version.id}`,
  });
  return { ...uploaded, versionName };
}

function runUrl(connection: KfpConnection, runId: string): string {
  return `${connection.uiHost}/#/runs/details/${runId}`;
}
