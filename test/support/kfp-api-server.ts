/**
 * A KFP API server on loopback, for the tests of `submit`: the endpoints a submit uses, answered as
 * KFP's swagger defines them — backend/api/v2beta1/swagger/{healthz,pipeline,pipeline.upload,
 * experiment,run}.swagger.json (KFP 2.14) and backend/api/swagger/*.swagger.json (KFP 1.8.5) — with
 * snake_case fields, enums by name, and unset fields left out, as the gateway writes them.
 *
 * Like KFP 2.x's gateway (protojson, DiscardUnknown false), a JSON body or filter with a field the
 * swagger does not declare is refused with 400; so is a query parameter the operation does not take
 * (stricter than KFP, to catch a misspelt one). Pipelines, versions and experiments are unique by
 * name (409 on KFP 2.x; KFP 1.8 answers 500). A run goes PENDING → RUNNING → `outcome` one step per
 * read. Every request is recorded, with its query and body (a file upload as its field, name and
 * size), so tests can assert the exact sequence.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type KfpMode = 'v2' | 'v1';

export interface KfpServerOptions {
  /** `v2`: a KFP 2.x server (v2beta1, and v1beta1 beside it); `v1`: KFP 1.8 (v1beta1 only). */
  mode: KfpMode;
  /** The Bearer token every request must carry; without it, none is needed. */
  token?: string;
  /** A token that authenticates but may do nothing (403). */
  forbiddenToken?: string;
  multiUser?: boolean;
  /** How runs end (`RUNNING`: they never do). @default 'SUCCEEDED' */
  outcome?: 'SUCCEEDED' | 'FAILED' | 'RUNNING';
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
  status: number;
  headers: Record<string, string | undefined>;
}

interface StoredPipeline {
  id: string;
  name: string;
  description?: string;
  namespace?: string;
  createdAt: string;
}
interface StoredVersion {
  id: string;
  pipelineId: string;
  name: string;
  description?: string;
  content: string;
  createdAt: string;
}
interface StoredExperiment {
  id: string;
  name: string;
  namespace?: string;
  createdAt: string;
}
interface StoredRun {
  id: string;
  name: string;
  experimentId: string;
  pipelineId?: string;
  versionId: string;
  /** v2beta1 runtime_config.parameters, or v1beta1 pipeline_spec.parameters. */
  parameters: unknown;
  api: 'v2beta1' | 'v1beta1';
  reads: number;
  createdAt: string;
}

/** A field of a message: its JSON type, or the message it holds. */
type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'any' | { message: string } | { enum: string[] } | { array: FieldType };
type Schema = Record<string, Record<string, FieldType>>;

const STATUS = { code: 'integer', message: 'string', details: { array: 'any' } } as const satisfies Record<string, FieldType>;
const RUNTIME_STATES = ['RUNTIME_STATE_UNSPECIFIED', 'PENDING', 'RUNNING', 'SUCCEEDED', 'SKIPPED', 'FAILED', 'CANCELING', 'CANCELED', 'PAUSED'];

/** The request messages of v2beta1, field for field as the 2.14.0 swagger declares them. */
const V2: Schema = {
  Pipeline: {
    pipeline_id: 'string',
    display_name: 'string',
    name: 'string',
    description: 'string',
    created_at: 'string',
    namespace: 'string',
    error: { message: 'Status' },
  },
  Status: STATUS,
  Experiment: {
    experiment_id: 'string',
    display_name: 'string',
    description: 'string',
    created_at: 'string',
    namespace: 'string',
    storage_state: { enum: ['STORAGE_STATE_UNSPECIFIED', 'AVAILABLE', 'ARCHIVED'] },
    last_run_created_at: 'string',
  },
  Run: {
    experiment_id: 'string',
    run_id: 'string',
    display_name: 'string',
    storage_state: { enum: ['STORAGE_STATE_UNSPECIFIED', 'AVAILABLE', 'ARCHIVED'] },
    description: 'string',
    pipeline_version_id: 'string',
    pipeline_spec: 'object',
    pipeline_version_reference: { message: 'PipelineVersionReference' },
    runtime_config: { message: 'RuntimeConfig' },
    service_account: 'string',
    created_at: 'string',
    scheduled_at: 'string',
    finished_at: 'string',
    state: { enum: RUNTIME_STATES },
    error: { message: 'Status' },
    run_details: 'object',
    recurring_run_id: 'string',
    state_history: { array: 'object' },
  },
  PipelineVersionReference: { pipeline_id: 'string', pipeline_version_id: 'string' },
  RuntimeConfig: { parameters: 'object', pipeline_root: 'string' },
  Filter: { predicates: { array: { message: 'Predicate' } } },
  Predicate: {
    operation: {
      enum: ['OPERATION_UNSPECIFIED', 'EQUALS', 'NOT_EQUALS', 'GREATER_THAN', 'GREATER_THAN_EQUALS', 'LESS_THAN', 'LESS_THAN_EQUALS', 'IN', 'IS_SUBSTRING'],
    },
    key: 'string',
    int_value: 'integer',
    long_value: 'string',
    string_value: 'string',
    timestamp_value: 'string',
    int_values: 'object',
    long_values: 'object',
    string_values: 'object',
  },
};

const V1_RESOURCE_TYPES = ['UNKNOWN_RESOURCE_TYPE', 'EXPERIMENT', 'JOB', 'PIPELINE', 'PIPELINE_VERSION', 'NAMESPACE'];

/** The request messages of v1beta1, as the 1.8.5 swagger declares them. */
const V1: Schema = {
  Experiment: {
    id: 'string',
    name: 'string',
    description: 'string',
    created_at: 'string',
    resource_references: { array: { message: 'ResourceReference' } },
    storage_state: { enum: ['STORAGESTATE_UNSPECIFIED', 'STORAGESTATE_AVAILABLE', 'STORAGESTATE_ARCHIVED'] },
  },
  ResourceReference: { key: { message: 'ResourceKey' }, name: 'string', relationship: { enum: ['UNKNOWN_RELATIONSHIP', 'OWNER', 'CREATOR'] } },
  ResourceKey: { type: { enum: V1_RESOURCE_TYPES }, id: 'string' },
  Run: {
    id: 'string',
    name: 'string',
    storage_state: { enum: ['STORAGESTATE_AVAILABLE', 'STORAGESTATE_ARCHIVED'] },
    description: 'string',
    pipeline_spec: { message: 'PipelineSpec' },
    resource_references: { array: { message: 'ResourceReference' } },
    service_account: 'string',
    created_at: 'string',
    scheduled_at: 'string',
    finished_at: 'string',
    status: 'string',
    error: 'string',
    metrics: { array: 'object' },
  },
  PipelineSpec: {
    pipeline_id: 'string',
    pipeline_name: 'string',
    workflow_manifest: 'string',
    pipeline_manifest: 'string',
    parameters: { array: { message: 'Parameter' } },
    runtime_config: { message: 'RuntimeConfig' },
  },
  Parameter: { name: 'string', value: 'string' },
  RuntimeConfig: { parameters: 'object', pipeline_root: 'string' },
  Filter: { predicates: { array: { message: 'Predicate' } } },
  Predicate: {
    op: { enum: ['UNKNOWN', 'EQUALS', 'NOT_EQUALS', 'GREATER_THAN', 'GREATER_THAN_EQUALS', 'LESS_THAN', 'LESS_THAN_EQUALS', 'IN', 'IS_SUBSTRING'] },
    key: 'string',
    int_value: 'integer',
    long_value: 'string',
    string_value: 'string',
    timestamp_value: 'string',
    int_values: 'object',
    long_values: 'object',
    string_values: 'object',
  },
};

/** A request the server refuses, with the status and body KFP would answer. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly grpcCode: number,
    message: string,
    readonly upload = false,
  ) {
    super(message);
  }
}

/** lowerCamel, as protojson also accepts a field by its JSON name (kfp.Client sends `stringValue`). */
function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Check `value` against a message of `schema`, as protojson does: unknown fields and wrong types are refused. */
function check(schema: Schema, message: string, value: unknown, path: string): void {
  const fields = schema[message]!;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Refusal(400, 3, `proto: ${path}: ${message} is not an object`);
  const byJsonName = new Map(Object.keys(fields).flatMap((f) => [[f, f] as const, [camel(f), f] as const]));
  for (const [key, v] of Object.entries(value)) {
    const field = byJsonName.get(key);
    if (!field) throw new Refusal(400, 3, `proto: (line 1:2): unknown field "${key}"`);
    checkType(schema, fields[field]!, v, `${path}.${key}`);
  }
}

function checkType(schema: Schema, type: FieldType, v: unknown, path: string): void {
  if (v === null) return;
  const bad = () => new Refusal(400, 3, `proto: ${path}: invalid value ${JSON.stringify(v)}`);
  if (type === 'any') return;
  if (type === 'string' && typeof v !== 'string') throw bad();
  if (type === 'boolean' && typeof v !== 'boolean') throw bad();
  if ((type === 'integer' || type === 'number') && typeof v !== 'number' && typeof v !== 'string') throw bad();
  if (type === 'object' && (typeof v !== 'object' || Array.isArray(v))) throw bad();
  if (typeof type === 'object') {
    if ('message' in type) check(schema, type.message, v, path);
    else if ('enum' in type) {
      if (!(typeof v === 'string' ? type.enum.includes(v) : typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < type.enum.length)) throw bad();
    } else {
      if (!Array.isArray(v)) throw bad();
      v.forEach((x, i) => checkType(schema, type.array, x, `${path}[${i}]`));
    }
  }
}

/** The operations: which query parameters each takes (swagger `in: query`). */
const QUERY = {
  v2ListPipelines: ['namespace', 'page_token', 'page_size', 'sort_by', 'filter'],
  v2ListVersions: ['page_token', 'page_size', 'sort_by', 'filter'],
  v2Upload: ['name', 'display_name', 'description', 'namespace'],
  v2UploadVersion: ['name', 'display_name', 'pipelineid', 'description'],
  v2ListExperiments: ['page_token', 'page_size', 'sort_by', 'filter', 'namespace'],
  v2CreateRun: ['experiment_id'],
  v2GetRun: ['experiment_id'],
  v1ListPipelines: ['page_token', 'page_size', 'sort_by', 'filter', 'resource_reference_key.type', 'resource_reference_key.id'],
  v1ListVersions: ['resource_key.type', 'resource_key.id', 'page_size', 'page_token', 'sort_by', 'filter'],
  v1Upload: ['name', 'description'],
  v1UploadVersion: ['name', 'pipelineid', 'description'],
  v1ListExperiments: ['page_token', 'page_size', 'sort_by', 'filter', 'resource_reference_key.type', 'resource_reference_key.id'],
  none: [],
} as const;

export class KfpApiServer {
  readonly requests: RecordedRequest[] = [];
  readonly pipelines: StoredPipeline[] = [];
  readonly versions: StoredVersion[] = [];
  readonly experiments: StoredExperiment[] = [];
  readonly runs: StoredRun[] = [];
  private server?: Server;
  private clock = Date.parse('2025-06-02T08:00:00Z');

  constructor(readonly options: KfpServerOptions) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** `METHOD /path` of every request, in order, for sequence assertions. */
  sequence(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  /** Forget the requests so far (the store stays). */
  clearLog(): void {
    this.requests.length = 0;
  }

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace('.000Z', 'Z');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kfp');
    const query = Object.fromEntries(url.searchParams);
    const raw = await readBody(req);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      status: 0,
      headers: { authorization: req.headers.authorization, cookie: req.headers.cookie, 'content-type': req.headers['content-type'] },
    };
    this.requests.push(record);
    const api = url.pathname.startsWith('/apis/v2beta1/') ? 'v2beta1' : url.pathname.startsWith('/apis/v1beta1/') ? 'v1beta1' : undefined;
    const send = (status: number, body: unknown) => {
      record.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (!api || (api === 'v2beta1' && this.options.mode === 'v1')) throw new Refusal(404, 5, 'Not Found');
      this.authorize(req);
      const isUpload = url.pathname.endsWith('/pipelines/upload') || url.pathname.endsWith('/pipelines/upload_version');
      if (isUpload) record.body = parseUpload(req.headers['content-type'], raw);
      else if (raw.length) {
        try {
          record.body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new Refusal(400, 3, 'proto: syntax error (line 1:1): invalid value');
        }
      }
      const answer = api === 'v2beta1' ? this.v2(record) : this.v1(record);
      send(200, answer);
    } catch (e) {
      if (!(e instanceof Refusal)) {
        send(500, { code: 13, message: String(e) });
        return;
      }
      if (e.upload) send(e.status, { error_message: e.message, error_details: `${e.message}\n(stack)` });
      else if (api === 'v1beta1') send(e.status, { error: e.message, code: e.grpcCode, message: e.message, details: [] });
      else send(e.status, { code: e.grpcCode, message: e.message, details: [] });
    }
  }

  private authorize(req: IncomingMessage): void {
    if (!this.options.token) return;
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (given && given === this.options.forbiddenToken) {
      throw new Refusal(
        403,
        7,
        "PermissionDenied: User 'system:serviceaccount:ci:robot' is not authorized with reason:  (request: &ResourceAttributes{Verb:list})",
      );
    }
    if (given !== this.options.token) throw new Refusal(401, 16, 'Unauthenticated: Request header error: there is no user identity header.');
  }

  private allowQuery(r: RecordedRequest, op: keyof typeof QUERY, upload = false): void {
    const allowed: readonly string[] = QUERY[op];
    for (const k of Object.keys(r.query)) if (!allowed.includes(k)) throw new Refusal(400, 3, `unknown query parameter "${k}"`, upload);
  }

  private filterName(r: RecordedRequest, schema: Schema, keys: string[]): string | undefined {
    const text = r.query.filter;
    if (text === undefined) return undefined;
    let filter: unknown;
    try {
      filter = JSON.parse(text);
    } catch {
      throw new Refusal(400, 3, 'Invalid input error: failed to parse valid filter from "filter"');
    }
    check(schema, 'Filter', filter, 'filter');
    const predicates = (filter as { predicates?: Record<string, unknown>[] }).predicates ?? [];
    if (predicates.length !== 1) throw new Refusal(400, 3, 'this server takes one predicate');
    const p = predicates[0]!;
    const op = p.operation ?? p.op;
    if (op !== 'EQUALS' && op !== 1) throw new Refusal(400, 3, 'this server takes EQUALS only');
    if (!keys.includes(String(p.key))) throw new Refusal(400, 3, `Invalid input error: no support for filtering on unrecognized field "${String(p.key)}"`);
    return String(p.string_value ?? p.stringValue);
  }

  private v2(r: RecordedRequest): unknown {
    const { method, path } = r;
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/apis/v2beta1/healthz') {
      this.allowQuery(r, 'none');
      return { commit_sha: 'test', tag_name: '2.14.0', multi_user: this.options.multiUser ?? false, pipeline_store: 'database' };
    }
    if (method === 'GET' && path === '/apis/v2beta1/pipelines') {
      this.allowQuery(r, 'v2ListPipelines');
      const name = this.filterName(r, V2, ['name', 'display_name']);
      const found = this.pipelines.filter((p) => name === undefined || p.name === name);
      return found.length ? { pipelines: found.map((p) => this.v2Pipeline(p)), total_size: found.length } : {};
    }
    if (method === 'POST' && path === '/apis/v2beta1/pipelines') {
      this.allowQuery(r, 'none');
      check(V2, 'Pipeline', r.body, 'pipeline');
      const b = r.body as { display_name?: string; name?: string; description?: string; namespace?: string };
      const name = b.name || b.display_name;
      if (!name) throw new Refusal(400, 3, 'Invalid input error: pipeline name is empty');
      return this.v2Pipeline(this.addPipeline(name, b.description, b.namespace, 409, false));
    }
    if (method === 'POST' && path === '/apis/v2beta1/pipelines/upload') {
      this.allowQuery(r, 'v2Upload', true);
      const file = this.uploaded(r);
      const name = r.query.name || r.query.display_name || file.name.replace(/\.[^.]*$/, '');
      const p = this.addPipeline(name, r.query.description, r.query.namespace, 409, true);
      this.addVersion(p.id, name, r.query.description, file.content, 409);
      return this.v2Pipeline(p);
    }
    if (method === 'POST' && path === '/apis/v2beta1/pipelines/upload_version') {
      this.allowQuery(r, 'v2UploadVersion', true);
      const file = this.uploaded(r);
      const pid = r.query.pipelineid;
      if (!pid) throw new Refusal(400, 3, 'Failed to create a pipeline version due to error reading pipeline id', true);
      if (!this.pipelines.some((p) => p.id === pid))
        throw new Refusal(400, 5, `Failed to create a pipeline version due to error reading namespace: pipeline ${pid} not found`, true);
      const v = this.addVersion(pid, r.query.name || r.query.display_name || file.name, r.query.description, file.content, 409);
      return this.v2Version(v);
    }
    if (method === 'GET' && (m = /^\/apis\/v2beta1\/pipelines\/([^/]+)\/versions$/.exec(path))) {
      this.allowQuery(r, 'v2ListVersions');
      const pid = decodeURIComponent(m[1]!);
      if (!this.pipelines.some((p) => p.id === pid)) throw new Refusal(404, 5, `Pipeline ${pid} not found`);
      const name = this.filterName(r, V2, ['name', 'display_name']);
      const found = this.versions.filter((v) => v.pipelineId === pid && (name === undefined || v.name === name));
      return found.length ? { pipeline_versions: found.map((v) => this.v2Version(v)), total_size: found.length } : {};
    }
    if (method === 'GET' && path === '/apis/v2beta1/experiments') {
      this.allowQuery(r, 'v2ListExperiments');
      if (this.options.multiUser && !r.query.namespace)
        throw new Refusal(400, 3, 'Invalid input error: In multi-user mode, ListExperiment requires filter by namespace');
      const name = this.filterName(r, V2, ['name', 'display_name']);
      const found = this.experiments.filter((e) => (name === undefined || e.name === name) && (!r.query.namespace || e.namespace === r.query.namespace));
      return found.length ? { experiments: found.map((e) => this.v2Experiment(e)), total_size: found.length } : {};
    }
    if (method === 'POST' && path === '/apis/v2beta1/experiments') {
      this.allowQuery(r, 'none');
      check(V2, 'Experiment', r.body, 'experiment');
      const b = r.body as { display_name?: string; namespace?: string };
      if (!b.display_name) throw new Refusal(400, 3, 'Invalid input error: Experiment name is empty. Please specify a valid experiment name');
      return this.v2Experiment(this.addExperiment(b.display_name, b.namespace));
    }
    if (method === 'POST' && path === '/apis/v2beta1/runs') {
      this.allowQuery(r, 'v2CreateRun');
      check(V2, 'Run', r.body, 'run');
      const b = r.body as {
        display_name?: string;
        experiment_id?: string;
        pipeline_version_reference?: { pipeline_id?: string; pipeline_version_id?: string };
        runtime_config?: { parameters?: unknown };
      };
      const vid = b.pipeline_version_reference?.pipeline_version_id;
      const version = this.versions.find((v) => v.id === vid);
      if (!version) throw new Refusal(400, 5, `Failed to create a run: pipeline version ${vid} not found`);
      if (!this.experiments.some((e) => e.id === b.experiment_id)) throw new Refusal(400, 5, `Failed to create a run: experiment ${b.experiment_id} not found`);
      if (!b.display_name) throw new Refusal(400, 3, 'Invalid input error: The run name is empty');
      const run = this.addRun(b.display_name, b.experiment_id!, version, b.runtime_config?.parameters ?? {}, 'v2beta1');
      return this.v2Run(run);
    }
    if (method === 'GET' && (m = /^\/apis\/v2beta1\/runs\/([^/]+)$/.exec(path))) {
      this.allowQuery(r, 'v2GetRun');
      const run = this.runs.find((x) => x.id === decodeURIComponent(m![1]!));
      if (!run) throw new Refusal(404, 5, 'Run not found');
      run.reads++;
      return this.v2Run(run);
    }
    throw new Refusal(404, 5, 'Not Found');
  }

  private v1(r: RecordedRequest): unknown {
    const { method, path } = r;
    let m: RegExpExecArray | null;
    // KFP 1.8 answers a name taken with 500, KFP 2.x with 409.
    const taken = this.options.mode === 'v1' ? 500 : 409;
    if (method === 'GET' && path === '/apis/v1beta1/healthz') {
      this.allowQuery(r, 'none');
      return { commit_sha: 'test', tag_name: this.options.mode === 'v1' ? '1.8.5' : '2.14.0', multi_user: this.options.multiUser ?? false };
    }
    if (method === 'GET' && path === '/apis/v1beta1/pipelines') {
      this.allowQuery(r, 'v1ListPipelines');
      const name = this.filterName(r, V1, ['name']);
      const found = this.pipelines.filter((p) => name === undefined || p.name === name);
      return found.length ? { pipelines: found.map((p) => this.v1Pipeline(p)), total_size: found.length } : {};
    }
    if (method === 'POST' && path === '/apis/v1beta1/pipelines/upload') {
      this.allowQuery(r, 'v1Upload', true);
      const file = this.uploaded(r);
      const name = r.query.name || file.name.replace(/\.[^.]*$/, '');
      const p = this.addPipeline(name, r.query.description, undefined, taken, true);
      this.addVersion(p.id, name, undefined, file.content, taken);
      return this.v1Pipeline(p);
    }
    if (method === 'POST' && path === '/apis/v1beta1/pipelines/upload_version') {
      this.allowQuery(r, 'v1UploadVersion', true);
      const file = this.uploaded(r);
      const pid = r.query.pipelineid;
      if (!pid || !this.pipelines.some((p) => p.id === pid))
        throw new Refusal(400, 3, 'Failed to create a pipeline version due to error reading pipeline id', true);
      return this.v1Version(this.addVersion(pid, r.query.name || file.name, r.query.description, file.content, taken));
    }
    if (method === 'GET' && path === '/apis/v1beta1/pipeline_versions') {
      this.allowQuery(r, 'v1ListVersions');
      if (r.query['resource_key.type'] !== 'PIPELINE' || !r.query['resource_key.id'])
        throw new Refusal(400, 3, 'Invalid input error: ListPipelineVersions needs a pipeline');
      const pid = r.query['resource_key.id'];
      const name = this.filterName(r, V1, ['name']);
      const found = this.versions.filter((v) => v.pipelineId === pid && (name === undefined || v.name === name));
      return found.length ? { versions: found.map((v) => this.v1Version(v)), total_size: found.length } : {};
    }
    if (method === 'GET' && path === '/apis/v1beta1/experiments') {
      this.allowQuery(r, 'v1ListExperiments');
      const ns = r.query['resource_reference_key.type'] === 'NAMESPACE' ? r.query['resource_reference_key.id'] : undefined;
      if (this.options.multiUser && !ns) throw new Refusal(400, 3, 'Invalid input error: In multi-user mode, ListExperiment requires filter by namespace');
      const name = this.filterName(r, V1, ['name']);
      const found = this.experiments.filter((e) => (name === undefined || e.name === name) && (!ns || e.namespace === ns));
      return found.length ? { experiments: found.map((e) => this.v1Experiment(e)), total_size: found.length } : {};
    }
    if (method === 'POST' && path === '/apis/v1beta1/experiments') {
      this.allowQuery(r, 'none');
      check(V1, 'Experiment', r.body, 'experiment');
      const b = r.body as { name?: string; resource_references?: { key?: { type?: string; id?: string } }[] };
      if (!b.name) throw new Refusal(400, 3, 'Invalid input error: Experiment name is empty. Please specify a valid experiment name');
      const ns = b.resource_references?.find((x) => x.key?.type === 'NAMESPACE')?.key?.id;
      return this.v1Experiment(this.addExperiment(b.name, ns));
    }
    if (method === 'POST' && path === '/apis/v1beta1/runs') {
      this.allowQuery(r, 'none');
      check(V1, 'Run', r.body, 'run');
      const b = r.body as {
        name?: string;
        pipeline_spec?: { parameters?: unknown };
        resource_references?: { key?: { type?: string; id?: string }; relationship?: string }[];
      };
      const ref = (type: string) => b.resource_references?.find((x) => x.key?.type === type)?.key?.id;
      const version = this.versions.find((v) => v.id === ref('PIPELINE_VERSION'));
      if (!version) throw new Refusal(400, 5, 'Failed to create a run: no pipeline version referenced');
      const experimentId = ref('EXPERIMENT');
      if (!this.experiments.some((e) => e.id === experimentId)) throw new Refusal(400, 5, 'Failed to create a run: no experiment referenced');
      if (!b.name) throw new Refusal(400, 3, 'Invalid input error: The run name is empty');
      const run = this.addRun(b.name, experimentId!, version, b.pipeline_spec?.parameters ?? [], 'v1beta1');
      return { run: this.v1Run(run) };
    }
    if (method === 'GET' && (m = /^\/apis\/v1beta1\/runs\/([^/]+)$/.exec(path))) {
      this.allowQuery(r, 'none');
      const run = this.runs.find((x) => x.id === decodeURIComponent(m![1]!));
      if (!run) throw new Refusal(404, 5, 'Run not found');
      run.reads++;
      return { run: this.v1Run(run), pipeline_runtime: { workflow_manifest: '{}' } };
    }
    throw new Refusal(404, 5, 'Not Found');
  }

  private uploaded(r: RecordedRequest): { name: string; content: string } {
    const file = r.body as { field?: string; name?: string; content?: string } | undefined;
    if (!file?.content || file.field !== 'uploadfile') throw new Refusal(400, 3, 'Failed to read pipeline from file: http: no such file', true);
    if (!/\.(ya?ml|json|zip|tar\.gz|tgz)$/.test(file.name ?? ''))
      throw new Refusal(400, 3, 'Failed to read a pipeline spec file: unexpected pipeline file format', true);
    return { name: file.name!, content: file.content };
  }

  private addPipeline(name: string, description: string | undefined, namespace: string | undefined, takenStatus: number, upload: boolean): StoredPipeline {
    if (this.pipelines.some((p) => p.name === name)) {
      throw new Refusal(takenStatus, 6, `Failed to create a pipeline and a pipeline version. The pipeline already exists: name ${name}`, upload);
    }
    const p = { id: randomUUID(), name, ...(description ? { description } : {}), ...(namespace ? { namespace } : {}), createdAt: this.now() };
    this.pipelines.push(p);
    return p;
  }

  private addVersion(pipelineId: string, name: string, description: string | undefined, content: string, takenStatus: number): StoredVersion {
    if (this.versions.some((v) => v.pipelineId === pipelineId && v.name === name)) {
      throw new Refusal(takenStatus, 6, `Failed to create a pipeline version. The pipeline version already exists: name ${name}`, true);
    }
    const v = { id: randomUUID(), pipelineId, name, ...(description ? { description } : {}), content, createdAt: this.now() };
    this.versions.push(v);
    return v;
  }

  private addExperiment(name: string, namespace: string | undefined): StoredExperiment {
    if (this.experiments.some((e) => e.name === name && e.namespace === namespace)) {
      throw new Refusal(409, 6, `Failed to create a new experiment: the experiment ${name} already exists`);
    }
    const e = { id: randomUUID(), name, ...(namespace ? { namespace } : {}), createdAt: this.now() };
    this.experiments.push(e);
    return e;
  }

  private addRun(name: string, experimentId: string, version: StoredVersion, parameters: unknown, api: 'v2beta1' | 'v1beta1'): StoredRun {
    const run = {
      id: randomUUID(),
      name,
      experimentId,
      pipelineId: version.pipelineId,
      versionId: version.id,
      parameters,
      api,
      reads: 0,
      createdAt: this.now(),
    };
    this.runs.push(run);
    return run;
  }

  /** PENDING when created, RUNNING at the first read, the outcome from the second on. */
  private stateOf(run: StoredRun): string {
    return run.reads === 0 ? 'PENDING' : run.reads === 1 ? 'RUNNING' : (this.options.outcome ?? 'SUCCEEDED');
  }

  private v2Pipeline(p: StoredPipeline): unknown {
    return {
      pipeline_id: p.id,
      display_name: p.name,
      name: p.name,
      ...(p.description ? { description: p.description } : {}),
      created_at: p.createdAt,
      ...(p.namespace ? { namespace: p.namespace } : {}),
    };
  }

  private v2Version(v: StoredVersion): unknown {
    return {
      pipeline_id: v.pipelineId,
      pipeline_version_id: v.id,
      display_name: v.name,
      name: v.name,
      ...(v.description ? { description: v.description } : {}),
      created_at: v.createdAt,
      pipeline_spec: { pipelineInfo: { name: 'stored' } },
    };
  }

  private v2Experiment(e: StoredExperiment): unknown {
    return {
      experiment_id: e.id,
      display_name: e.name,
      created_at: e.createdAt,
      ...(e.namespace ? { namespace: e.namespace } : {}),
      storage_state: 'AVAILABLE',
    };
  }

  private v2Run(run: StoredRun): unknown {
    const state = this.stateOf(run);
    const failed = state === 'FAILED';
    return {
      experiment_id: run.experimentId,
      run_id: run.id,
      display_name: run.name,
      storage_state: 'AVAILABLE',
      pipeline_version_reference: { pipeline_id: run.pipelineId, pipeline_version_id: run.versionId },
      runtime_config: { parameters: run.parameters },
      created_at: run.createdAt,
      state,
      ...(failed ? { error: { code: 2, message: 'pipeline run failed' } } : {}),
      ...(run.reads > 0
        ? {
            run_details: {
              task_details: [
                { run_id: run.id, task_id: 't1', display_name: 'first', state: 'SUCCEEDED' },
                {
                  run_id: run.id,
                  task_id: 't2',
                  display_name: 'second',
                  state: failed ? 'FAILED' : state,
                  ...(failed ? { error: { code: 2, message: 'exit status 3' } } : {}),
                },
              ],
            },
          }
        : {}),
    };
  }

  private v1Pipeline(p: StoredPipeline): unknown {
    const first = this.versions.find((v) => v.pipelineId === p.id);
    return {
      id: p.id,
      created_at: p.createdAt,
      name: p.name,
      ...(p.description ? { description: p.description } : {}),
      ...(first ? { default_version: this.v1Version(first) } : {}),
    };
  }

  private v1Version(v: StoredVersion): unknown {
    return {
      id: v.id,
      name: v.name,
      created_at: v.createdAt,
      resource_references: [{ key: { type: 'PIPELINE', id: v.pipelineId }, relationship: 'OWNER' }],
      ...(v.description ? { description: v.description } : {}),
    };
  }

  private v1Experiment(e: StoredExperiment): unknown {
    return {
      id: e.id,
      name: e.name,
      created_at: e.createdAt,
      ...(e.namespace ? { resource_references: [{ key: { type: 'NAMESPACE', id: e.namespace }, relationship: 'OWNER' }] } : {}),
      storage_state: 'STORAGESTATE_AVAILABLE',
    };
  }

  private v1Run(run: StoredRun): unknown {
    const status = { PENDING: 'Pending', RUNNING: 'Running', SUCCEEDED: 'Succeeded', FAILED: 'Failed' }[this.stateOf(run)] ?? 'Unknown';
    return {
      id: run.id,
      name: run.name,
      pipeline_spec: { parameters: run.parameters },
      resource_references: [
        { key: { type: 'EXPERIMENT', id: run.experimentId }, relationship: 'OWNER' },
        { key: { type: 'PIPELINE_VERSION', id: run.versionId }, relationship: 'CREATOR' },
      ],
      created_at: run.createdAt,
      // A run the persistence agent has not reported on yet has no status.
      ...(run.reads === 0 ? {} : { status }),
      ...(status === 'Failed' ? { error: 'step second failed: exit status 3' } : {}),
    };
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The one file part of a multipart/form-data body, as Go's r.FormFile reads it: its field, file name and content. */
function parseUpload(contentType: string | undefined, raw: Buffer): { field: string; name: string; size: number; content: string } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType ?? '');
  if (!contentType?.startsWith('multipart/form-data') || !boundary)
    throw new Refusal(400, 3, "Failed to read pipeline from file: request Content-Type isn't multipart/form-data", true);
  const b = `--${boundary[1] ?? boundary[2]}`;
  const text = raw.toString('latin1');
  for (const part of text.split(b).slice(1)) {
    if (part.startsWith('--')) break;
    const end = part.indexOf('\r\n\r\n');
    const head = part.slice(0, end);
    const field = /name="([^"]*)"/.exec(head)?.[1];
    const name = /filename="([^"]*)"/.exec(head)?.[1];
    if (field && name !== undefined) {
      const content = Buffer.from(part.slice(end + 4, part.length - 2), 'latin1').toString('utf8');
      return { field, name, size: Buffer.byteLength(content), content };
    }
  }
  throw new Refusal(400, 3, 'Failed to read pipeline from file: http: no such file', true);
}
