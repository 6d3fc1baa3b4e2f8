/**
 * The few calls a submit makes, in both APIs of the KFP API server, as their swagger defines them
 * (backend/api/v2beta1/swagger/*.swagger.json of KFP 2.x; backend/api/swagger/*.swagger.json of
 * KFP 1.8): find a pipeline, a version and an experiment by name (a `filter` with one EQUALS
 * predicate, as kfp.Client's get_pipeline_id and get_experiment send it), create them, upload a
 * version (multipart field `uploadfile`), start a run and read it. Bodies carry only fields the
 * swagger declares: KFP 2.x's gateway refuses any other.
 */

import { KfpApiError } from '../errors.js';
import type { KfpApi, KfpRunState } from '../events.js';
import type { TypedValue } from '../model/typed-value.js';
import type { KfpHttp, Query } from './kfp-http.js';

export interface PipelineRef {
  id: string;
  name: string;
}

export interface VersionRef {
  id: string;
  name: string;
  description?: string;
}

export interface ExperimentRef {
  id: string;
  name: string;
  archived: boolean;
}

/** A new pipeline, and the version the API created with it (v1beta1: named after the pipeline). */
export interface CreatedPipeline {
  pipeline: PipelineRef;
  firstVersion?: VersionRef;
}

export interface RunStatus {
  id: string;
  state: KfpRunState;
  /** A KFP 1.x status as the server wrote it (`Running`, `Error`, …). */
  raw?: string;
  error?: string;
  failedTasks: { task: string; error?: string }[];
}

/** A file to upload: its name (ending in .yaml: the server decides the format by it) and bytes. */
export interface UploadFile {
  name: string;
  content: Buffer;
}

export interface NewRun {
  name: string;
  experimentId: string;
  pipelineId: string;
  versionId: string;
  parameters: Record<string, TypedValue>;
}

export interface KfpApiClient {
  readonly api: KfpApi;
  findPipeline(name: string): Promise<PipelineRef | undefined>;
  /**
   * A new pipeline. KFP names the version an upload creates after the pipeline and takes no other
   * name for it (kubeflow/pipelines #5881): where the API allows it (v2beta1) the pipeline is
   * created empty, so that its first version is the one `uploadVersion` names.
   */
  createPipeline(name: string, description: string | undefined, file: UploadFile): Promise<CreatedPipeline>;
  findVersion(pipelineId: string, name: string): Promise<VersionRef | undefined>;
  uploadVersion(pipelineId: string, name: string, description: string, file: UploadFile): Promise<VersionRef>;
  findExperiment(name: string, namespace: string | undefined): Promise<ExperimentRef | undefined>;
  createExperiment(name: string, namespace: string | undefined): Promise<ExperimentRef>;
  createRun(run: NewRun): Promise<RunStatus>;
  getRun(runId: string): Promise<RunStatus>;
}

type Obj = Record<string, unknown>;

/** `{"predicates": [{"operation": "EQUALS", "key": …, "string_value": …}]}` (v2beta1Filter; v1 names the operation `op`). */
function equalsFilter(api: KfpApi, key: string, value: string): string {
  const op = api === 'v2beta1' ? 'operation' : 'op';
  return JSON.stringify({ predicates: [{ [op]: 'EQUALS', key, string_value: value }] });
}

function str(o: unknown, key: string): string | undefined {
  const v = o && typeof o === 'object' ? (o as Obj)[key] : undefined;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function list(o: unknown, key: string): Obj[] {
  const v = o && typeof o === 'object' ? (o as Obj)[key] : undefined;
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Obj[]) : [];
}

function required(o: unknown, key: string, what: string): string {
  const v = str(o, key);
  if (!v) throw new KfpApiError(`KFP: ${what}: the answer has no ${key}`, { status: 200 });
  return v;
}

/** At most one match: two objects of one name make "by name" ambiguous, and KFP allows that for experiments. */
function single<T>(items: T[], what: string): T | undefined {
  if (items.length > 1) throw new KfpApiError(`KFP: ${items.length} ${what}; the name must be unique to be used`, { status: 200 });
  return items[0];
}

/** `upload_version` is the same multipart request in both APIs; the new version's id comes back as `idKey`. */
async function uploadVersion(
  http: KfpHttp,
  api: 'v1beta1' | 'v2beta1',
  idKey: string,
  v: { pipelineId: string; name: string; description: string; file: UploadFile },
): Promise<VersionRef> {
  const body = await http.call({
    method: 'POST',
    path: `/apis/${api}/pipelines/upload_version`,
    query: { name: v.name, pipelineid: v.pipelineId, description: v.description },
    file: { field: 'uploadfile', ...v.file },
    what: `upload the version ${v.name}`,
  });
  return { id: required(body, idKey, 'upload version'), name: v.name, description: v.description };
}

/** The one object of `list` whose `nameKey` is `name` (at most one: see `single`), or undefined. */
async function findByName(
  http: KfpHttp,
  api: 'v1beta1' | 'v2beta1',
  q: { path: string; nameKey: string; name: string; list: string; kind: string; extra?: Query },
): Promise<Record<string, unknown> | undefined> {
  const body = await http.call({
    method: 'GET',
    path: q.path,
    query: { filter: equalsFilter(api, q.nameKey, q.name), page_size: 10, ...q.extra },
    what: `look up the ${q.kind} ${q.name}`,
  });
  return single(list(body, q.list), `${q.kind}s named ${q.name}`);
}

/** An experiment created from `json`; its id comes back as `idKey`. */
async function createExperiment(http: KfpHttp, path: string, idKey: string, name: string, json: Record<string, unknown>): Promise<ExperimentRef> {
  const body = await http.call({ method: 'POST', path, json, what: `create the experiment ${name}` });
  return { id: required(body, idKey, 'create experiment'), name, archived: false };
}

/** A run started from `json` (the answer is the run, as getRun reads it). */
function startRun(http: KfpHttp, api: 'v1beta1' | 'v2beta1', name: string, json: Record<string, unknown>): Promise<unknown> {
  return http.call({ method: 'POST', path: `/apis/${api}/runs`, json, what: `start the run ${name}` });
}

function readRun(http: KfpHttp, api: 'v1beta1' | 'v2beta1', runId: string): Promise<unknown> {
  return http.call({ method: 'GET', path: `/apis/${api}/runs/${encodeURIComponent(runId)}`, what: `read the run ${runId}` });
}

/** KFP 2.x: /apis/v2beta1. */
export class V2beta1Api implements KfpApiClient {
  readonly api = 'v2beta1' as const;

  constructor(private readonly http: KfpHttp) {}

  async findPipeline(name: string): Promise<PipelineRef | undefined> {
    const p = await findByName(this.http, this.api, { path: '/apis/v2beta1/pipelines', nameKey: 'display_name', name, list: 'pipelines', kind: 'pipeline' });
    return p ? { id: required(p, 'pipeline_id', 'list pipelines'), name: str(p, 'display_name') ?? name } : undefined;
  }

  async createPipeline(name: string, description: string | undefined): Promise<CreatedPipeline> {
    const body = await this.http.call({
      method: 'POST',
      path: '/apis/v2beta1/pipelines',
      json: { display_name: name, ...(description ? { description } : {}) },
      what: `create the pipeline ${name}`,
    });
    return { pipeline: { id: required(body, 'pipeline_id', 'create pipeline'), name } };
  }

  async findVersion(pipelineId: string, name: string): Promise<VersionRef | undefined> {
    const v = await findByName(this.http, this.api, {
      path: `/apis/v2beta1/pipelines/${encodeURIComponent(pipelineId)}/versions`,
      nameKey: 'display_name',
      name,
      list: 'pipeline_versions',
      kind: 'version',
    });
    return v ? { id: required(v, 'pipeline_version_id', 'list versions'), name, description: str(v, 'description') } : undefined;
  }

  uploadVersion(pipelineId: string, name: string, description: string, file: UploadFile): Promise<VersionRef> {
    return uploadVersion(this.http, this.api, 'pipeline_version_id', { pipelineId, name, description, file });
  }

  async findExperiment(name: string, namespace: string | undefined): Promise<ExperimentRef | undefined> {
    const e = await findByName(this.http, this.api, {
      path: '/apis/v2beta1/experiments',
      nameKey: 'display_name',
      name,
      list: 'experiments',
      kind: 'experiment',
      extra: { namespace },
    });
    return e ? { id: required(e, 'experiment_id', 'list experiments'), name, archived: str(e, 'storage_state') === 'ARCHIVED' } : undefined;
  }

  createExperiment(name: string, namespace: string | undefined): Promise<ExperimentRef> {
    return createExperiment(this.http, '/apis/v2beta1/experiments', 'experiment_id', name, { display_name: name, ...(namespace ? { namespace } : {}) });
  }

  async createRun(run: NewRun): Promise<RunStatus> {
    const json = {
      display_name: run.name,
      experiment_id: run.experimentId,
      pipeline_version_reference: { pipeline_id: run.pipelineId, pipeline_version_id: run.versionId },
      runtime_config: { parameters: run.parameters },
    };
    return this.status(await startRun(this.http, this.api, run.name, json), 'create run');
  }

  async getRun(runId: string): Promise<RunStatus> {
    return this.status(await readRun(this.http, this.api, runId), 'get run');
  }

  private status(body: unknown, what: string): RunStatus {
    const state = (str(body, 'state') ?? 'RUNTIME_STATE_UNSPECIFIED') as KfpRunState;
    const details = (body as Obj).run_details;
    const failedTasks = list(details, 'task_details')
      .filter((t) => str(t, 'state') === 'FAILED')
      .map((t) => ({ task: str(t, 'display_name') ?? str(t, 'task_id') ?? '?', ...(messageOf(t.error) ? { error: messageOf(t.error) } : {}) }));
    const error = messageOf((body as Obj).error);
    return { id: required(body, 'run_id', what), state, failedTasks, ...(error ? { error } : {}) };
  }
}

function messageOf(status: unknown): string | undefined {
  return str(status, 'message');
}

/** KFP 1.x run statuses (Argo phases) in KFP 2.x's names, as KFP 2.x's own v1beta1 API maps them. */
const V1_STATES: Record<string, KfpRunState> = {
  pending: 'PENDING',
  running: 'RUNNING',
  succeeded: 'SUCCEEDED',
  skipped: 'SKIPPED',
  failed: 'FAILED',
  error: 'FAILED',
  terminating: 'CANCELING',
};

/**
 * KFP 1.x: /apis/v1beta1. Also what KFP 2.x runs a v1 package through: its v2beta1 runtime
 * parameters are not applied to an Argo package, v1beta1's `pipeline_spec.parameters` are.
 */
export class V1beta1Api implements KfpApiClient {
  readonly api = 'v1beta1' as const;

  constructor(private readonly http: KfpHttp) {}

  async findPipeline(name: string): Promise<PipelineRef | undefined> {
    const p = await findByName(this.http, this.api, { path: '/apis/v1beta1/pipelines', nameKey: 'name', name, list: 'pipelines', kind: 'pipeline' });
    return p ? { id: required(p, 'id', 'list pipelines'), name } : undefined;
  }

  /** v1beta1 creates a pipeline only with a version (an upload; CreatePipeline needs a URL): that version is named after the pipeline. */
  async createPipeline(name: string, description: string | undefined, file: UploadFile): Promise<CreatedPipeline> {
    const body = await this.http.call({
      method: 'POST',
      path: '/apis/v1beta1/pipelines/upload',
      query: { name, description },
      file: { field: 'uploadfile', ...file },
      what: `upload the pipeline ${name}`,
    });
    const first = (body as Obj).default_version;
    const firstId = str(first, 'id');
    return {
      pipeline: { id: required(body, 'id', 'upload pipeline'), name },
      ...(firstId ? { firstVersion: { id: firstId, name: str(first, 'name') ?? name } } : {}),
    };
  }

  async findVersion(pipelineId: string, name: string): Promise<VersionRef | undefined> {
    const v = await findByName(this.http, this.api, {
      path: '/apis/v1beta1/pipeline_versions',
      nameKey: 'name',
      name,
      list: 'versions',
      kind: 'version',
      extra: { 'resource_key.type': 'PIPELINE', 'resource_key.id': pipelineId },
    });
    return v ? { id: required(v, 'id', 'list versions'), name, description: str(v, 'description') } : undefined;
  }

  uploadVersion(pipelineId: string, name: string, description: string, file: UploadFile): Promise<VersionRef> {
    return uploadVersion(this.http, this.api, 'id', { pipelineId, name, description, file });
  }

  async findExperiment(name: string, namespace: string | undefined): Promise<ExperimentRef | undefined> {
    const scope: Query = namespace ? { 'resource_reference_key.type': 'NAMESPACE', 'resource_reference_key.id': namespace } : {};
    const e = await findByName(this.http, this.api, {
      path: '/apis/v1beta1/experiments',
      nameKey: 'name',
      name,
      list: 'experiments',
      kind: 'experiment',
      extra: { ...scope },
    });
    return e ? { id: required(e, 'id', 'list experiments'), name, archived: str(e, 'storage_state') === 'STORAGESTATE_ARCHIVED' } : undefined;
  }

  createExperiment(name: string, namespace: string | undefined): Promise<ExperimentRef> {
    const owner = namespace ? { resource_references: [{ key: { type: 'NAMESPACE', id: namespace }, relationship: 'OWNER' }] } : {};
    return createExperiment(this.http, '/apis/v1beta1/experiments', 'id', name, { name, ...owner });
  }

  async createRun(run: NewRun): Promise<RunStatus> {
    const json = {
      name: run.name,
      pipeline_spec: {
        parameters: Object.entries(run.parameters).map(([name, value]) => ({ name, value: typeof value === 'string' ? value : JSON.stringify(value) })),
      },
      resource_references: [
        { key: { type: 'EXPERIMENT', id: run.experimentId }, relationship: 'OWNER' },
        { key: { type: 'PIPELINE_VERSION', id: run.versionId }, relationship: 'CREATOR' },
      ],
    };
    return this.status(await startRun(this.http, this.api, run.name, json), 'create run');
  }

  async getRun(runId: string): Promise<RunStatus> {
    return this.status(await readRun(this.http, this.api, runId), 'get run');
  }

  /** apiRunDetail: `{run: {id, status, error}, pipeline_runtime}`. */
  private status(body: unknown, what: string): RunStatus {
    const run = (body as Obj).run;
    const raw = str(run, 'status') ?? '';
    const error = str(run, 'error');
    return {
      id: required(run, 'id', what),
      // A run the persistence agent has not reported on yet has no status.
      state: V1_STATES[raw.toLowerCase()] ?? (raw === '' ? 'PENDING' : 'RUNTIME_STATE_UNSPECIFIED'),
      raw,
      failedTasks: [],
      ...(error ? { error } : {}),
    };
  }
}
