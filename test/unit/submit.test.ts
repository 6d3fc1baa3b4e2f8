/**
 * `submit` against a loopback KFP API server (test/support/kfp-api-server.ts) in its KFP 2.x and
 * KFP 1.8 modes: the requests a first and a second submit make, a changed spec, runs followed to
 * their end, credentials and their refusal, an unreachable host, bad parameters, the v1 package.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HelmetEvent } from '../../src/events.js';
import { buildPipelineDocuments, renderPipelineYaml } from '../../src/kfp/pipeline-spec.js';
import { loadProject } from '../../src/project/load-project.js';
import { submit } from '../../src/submit/submit.js';
import { KfpApiServer, type KfpServerOptions } from '../support/kfp-api-server.js';
import { closedPort } from '../support/ports.js';
import { makeProject, runCli, TINY_DOCKERFILE, TINY_STEPS, tinyComponent } from '../support/project.js';

const PIPELINE = `name: tiny
description: two greetings
parameters:
  who: {type: String, default: me}
  epochs: {type: Integer, default: 2}
  fast: {type: Boolean, default: false}
  rate: {type: Float, default: 1}
${TINY_STEPS}`;

/** The KFP v1 package a v1 cluster runs: only what submit reads of it (its parameters) matters here. */
const V1_PACKAGE = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: tiny-
  annotations: {pipelines.kubeflow.org/kfp_sdk_version: 1.8.22}
spec:
  entrypoint: tiny
  arguments:
    parameters:
    - {name: who, value: me}
    - {name: epochs, value: '2'}
    - {name: fast, value: 'False'}
    - {name: rate, value: '1.0'}
  templates:
  - name: tiny
    dag: {tasks: []}
`;

const KFP_ENV = [
  'KF_PIPELINES_ENDPOINT',
  'KF_PIPELINES_TOKEN',
  'KF_PIPELINES_SA_TOKEN_PATH',
  'KF_PIPELINES_COOKIE',
  'KF_PIPELINES_UI_ENDPOINT',
  'KF_PIPELINES_DEFAULT_EXPERIMENT_NAME',
  'KF_PIPELINES_OVERRIDE_EXPERIMENT_NAME',
  'HELMET_SUBMIT_POLL_SECONDS',
  'HOME',
];
const saved = Object.fromEntries(KFP_ENV.map((k) => [k, process.env[k]]));

let project: { root: string; cleanup: () => void };
let home: string;
let server: KfpApiServer;

/** A project with the tiny pipeline and its published specs in dist/ (the v2 spec rendered by helmet-build's own emitter). */
async function tinyProject(): Promise<{ root: string; cleanup: () => void }> {
  const p = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('hello', 'hello', 'hi'), ...tinyComponent('world', 'world', 'hi'), 'pipeline.yaml': PIPELINE });
  await writeSpec(p.root, `registry.example.com/tiny/hello@sha256:${'a'.repeat(64)}`);
  writeFileSync(join(p.root, 'dist', 'tiny.v1.yaml'), V1_PACKAGE);
  return p;
}

async function writeSpec(root: string, helloImage: string): Promise<void> {
  const pipeline = loadProject(root).pipeline!;
  const images = new Map([
    ['hello', helloImage],
    ['world', `registry.example.com/tiny/world@sha256:${'b'.repeat(64)}`],
  ]);
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'dist', 'tiny.yaml'), await renderPipelineYaml(pipeline, buildPipelineDocuments(pipeline, images)));
}

function contentVersion(root: string, file = 'tiny.yaml'): string {
  return `tiny-${createHash('sha256')
    .update(readFileSync(join(root, 'dist', file)))
    .digest('hex')
    .slice(0, 12)}`;
}

async function startServer(o: KfpServerOptions): Promise<string> {
  server = new KfpApiServer(o);
  return server.start();
}

function events(stdout: string): HelmetEvent[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as HelmetEvent);
}

/** The sequence without query strings, as `METHOD path`. */
const V2_FIRST = [
  'GET /apis/v2beta1/healthz',
  'GET /apis/v2beta1/pipelines',
  'POST /apis/v2beta1/pipelines',
  'POST /apis/v2beta1/pipelines/upload_version',
  'GET /apis/v2beta1/experiments',
  'POST /apis/v2beta1/experiments',
  'POST /apis/v2beta1/runs',
];

beforeEach(async () => {
  for (const k of KFP_ENV) delete process.env[k];
  home = mkdtempSync(join(tmpdir(), 'helmet-home-'));
  process.env.HOME = home;
  process.env.HELMET_SUBMIT_POLL_SECONDS = '0.02';
  project = await tinyProject();
});

afterEach(async () => {
  await server?.stop();
  project.cleanup();
  rmSync(home, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('submit to KFP 2.x (v2beta1)', () => {
  it('first submit: creates the pipeline, one version named from the content, the experiment and a run with typed parameters', async () => {
    const host = await startServer({ mode: 'v2', token: 'tok-123' });
    process.env.KF_PIPELINES_TOKEN = 'tok-123';
    const r = await runCli(['submit', '--host', host, '--param', 'epochs=3', '--param', 'fast=true', '--json'], project.root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(server.sequence()).toEqual(V2_FIRST);

    const version = contentVersion(project.root);
    const [, list, create, upload, listExp, createExp, run] = server.requests;
    expect(JSON.parse(list!.query.filter!)).toEqual({ predicates: [{ operation: 'EQUALS', key: 'display_name', string_value: 'tiny' }] });
    expect(create!.body).toEqual({ display_name: 'tiny', description: 'two greetings' });
    expect(upload!.query).toMatchObject({ name: version, pipelineid: server.pipelines[0]!.id });
    expect(upload!.body).toMatchObject({ field: 'uploadfile', name: 'tiny.yaml' });
    expect(upload!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(JSON.parse(listExp!.query.filter!).predicates[0].string_value).toBe('Default');
    expect(createExp!.body).toEqual({ display_name: 'Default' });
    expect(run!.body).toMatchObject({
      experiment_id: server.experiments[0]!.id,
      pipeline_version_reference: { pipeline_id: server.pipelines[0]!.id, pipeline_version_id: server.versions[0]!.id },
      runtime_config: { parameters: { who: 'me', epochs: 3, fast: true, rate: 1 } },
    });
    expect((run!.body as { display_name: string }).display_name).toMatch(/^tiny \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(server.requests.every((q) => q.headers.authorization === 'Bearer tok-123')).toBe(true);

    expect(server.versions.map((v) => v.name)).toEqual([version]);
    const ev = events(r.stdout);
    expect(ev.find((e) => e.type === 'submit-target')).toMatchObject({
      api: 'v2beta1',
      chosenBy: 'healthz',
      server: '2.14.0',
      credentials: 'a token from KF_PIPELINES_TOKEN',
    });
    expect(ev.find((e) => e.type === 'submit-uploaded')).toMatchObject({ action: 'pipeline-created', version, file: 'dist/tiny.yaml' });
    const created = ev.find((e) => e.type === 'run-created') as Extract<HelmetEvent, { type: 'run-created' }>;
    expect(created.url).toBe(`${host}/#/runs/details/${server.runs[0]!.id}`);
    expect(ev.at(-1)).toMatchObject({ type: 'result', ok: true, exitCode: 0, runId: server.runs[0]!.id, version });
    expect(r.stdout).not.toContain('tok-123');
  });

  it('the same spec again: no new pipeline or version, a new run in the same experiment', async () => {
    const host = await startServer({ mode: 'v2' });
    expect((await runCli(['submit', '--host', host], project.root)).code).toBe(0);
    server.clearLog();
    const r = await runCli(['submit', '--host', host], project.root);
    expect(r.code).toBe(0);
    expect(server.sequence()).toEqual([
      'GET /apis/v2beta1/healthz',
      'GET /apis/v2beta1/pipelines',
      `GET /apis/v2beta1/pipelines/${server.pipelines[0]!.id}/versions`,
      'GET /apis/v2beta1/experiments',
      'POST /apis/v2beta1/runs',
    ]);
    expect(server.pipelines).toHaveLength(1);
    expect(server.versions).toHaveLength(1);
    expect(server.experiments).toHaveLength(1);
    expect(server.runs).toHaveLength(2);
    expect(r.stderr).toContain('unchanged, version reused');
    expect(r.stderr).toContain(`${host}/#/runs/details/${server.runs[1]!.id}`);
  });

  it('a changed spec adds exactly one version, and the run uses it', async () => {
    const host = await startServer({ mode: 'v2' });
    expect((await runCli(['submit', '--host', host], project.root)).code).toBe(0);
    await writeSpec(project.root, `registry.example.com/tiny/hello@sha256:${'c'.repeat(64)}`);
    server.clearLog();
    const r = await runCli(['submit', '--host', host], project.root);
    expect(r.code).toBe(0);
    expect(server.sequence()).toContain('POST /apis/v2beta1/pipelines/upload_version');
    expect(server.sequence()).not.toContain('POST /apis/v2beta1/pipelines');
    expect(server.versions.map((v) => v.name)).toEqual([server.versions[0]!.name, contentVersion(project.root)]);
    expect(server.runs[1]!.versionId).toBe(server.versions[1]!.id);
    // And that spec once more reuses its version.
    expect((await runCli(['submit', '--host', host], project.root)).code).toBe(0);
    expect(server.versions).toHaveLength(2);
  });

  it('--wait follows a failed run: each state once, the failed task with its error, exit 1', async () => {
    const host = await startServer({ mode: 'v2', outcome: 'FAILED' });
    const r = await runCli(['submit', '--host', host, '--wait', '--json'], project.root);
    expect(r.code).toBe(1);
    const ev = events(r.stdout);
    expect(ev.filter((e) => e.type === 'run-state').map((e) => (e as { state: string }).state)).toEqual(['PENDING', 'RUNNING', 'FAILED']);
    expect(ev.find((e) => e.type === 'run-task-failed')).toMatchObject({ task: 'second', error: 'exit status 3' });
    expect(ev.at(-1)).toMatchObject({ type: 'result', ok: false, exitCode: 1, state: 'FAILED' });
  });

  it('--wait on a run that succeeds exits 0; --timeout stops waiting (exit 1) and says the run goes on', async () => {
    const host = await startServer({ mode: 'v2' });
    const ok = await runCli(['submit', '--host', host, '--wait'], project.root);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/: RUNNING/);
    expect(ok.stderr).toContain('run SUCCEEDED:');
    await server.stop();

    const host2 = await startServer({ mode: 'v2', outcome: 'RUNNING' });
    process.env.HELMET_SUBMIT_POLL_SECONDS = '0.2';
    const late = await runCli(['submit', '--host', host2, '--wait', '--timeout', '1'], project.root);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('the run keeps running on the cluster');
  });

  it('Ctrl-C while waiting: exit 130, the run is left running and the event says so', async () => {
    const host = await startServer({ mode: 'v2', outcome: 'RUNNING' });
    const abort = new AbortController();
    const seen: HelmetEvent[] = [];
    const result = await submit(
      { root: project.root, host, params: {}, wait: true, pollIntervalMs: 20, signal: abort.signal },
      {
        onEvent: (e) => {
          seen.push(e);
          if (e.type === 'run-state' && e.state === 'RUNNING') abort.abort();
        },
      },
    );
    expect(result.exitCode).toBe(130);
    expect(seen.at(-1)).toMatchObject({ type: 'run-detached', reason: 'interrupted', runId: server.runs[0]!.id });
    expect(server.sequence().filter((s) => s.includes(':terminate'))).toEqual([]);
  });

  it('a wrong token is 401: exit 1 naming authentication and where the token came from, never the token', async () => {
    const host = await startServer({ mode: 'v2', token: 'right' });
    process.env.KF_PIPELINES_TOKEN = 'wrong-secret-value';
    const r = await runCli(['submit', '--host', host], project.root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('401, authentication failed');
    expect(r.stderr).toContain('a token from KF_PIPELINES_TOKEN');
    expect(r.stderr).toContain('there is no user identity header');
    expect(r.stderr + r.stdout).not.toContain('wrong-secret-value');
    expect(server.sequence()).toEqual(['GET /apis/v2beta1/healthz']);
  });

  it('a token that may not do it is 403: exit 1 naming authorisation and the token file', async () => {
    const host = await startServer({ mode: 'v2', token: 'right', forbiddenToken: 'robot-token' });
    const tokenFile = join(home, 'token');
    writeFileSync(tokenFile, 'robot-token\n');
    process.env.KF_PIPELINES_SA_TOKEN_PATH = tokenFile;
    const r = await runCli(['submit', '--host', host], project.root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('403, not authorised');
    expect(r.stderr).toContain(`the file KF_PIPELINES_SA_TOKEN_PATH names (${tokenFile})`);
    expect(r.stderr).not.toContain('robot-token\n');
    expect(server.requests[0]!.headers.authorization).toBe('Bearer robot-token');
  });

  it('the cookie and header of ~/.config/kfp/context.json, and its namespace, as kfp.Client reads them', async () => {
    const host = await startServer({ mode: 'v2', multiUser: true });
    mkdirSync(join(home, '.config', 'kfp'), { recursive: true });
    writeFileSync(
      join(home, '.config', 'kfp', 'context.json'),
      JSON.stringify({
        namespace: 'team-a',
        client_authentication_cookie: 'authservice_session=abc',
        client_authentication_header_name: 'kubeflow-userid',
        client_authentication_header_value: 'me@example.com',
      }),
    );
    process.env.KF_PIPELINES_ENDPOINT = host.replace('http://', 'http://');
    const r = await runCli(['submit', '--experiment', 'ci'], project.root);
    expect(r.stderr).not.toContain('authservice_session=abc');
    expect(r.code).toBe(0);
    expect(server.requests.every((q) => q.headers.cookie === 'authservice_session=abc')).toBe(true);
    expect(server.experiments[0]).toMatchObject({ name: 'ci', namespace: 'team-a' });
    expect(server.requests.find((q) => q.path === '/apis/v2beta1/experiments' && q.method === 'GET')!.query.namespace).toBe('team-a');
  });

  it('a multi-user server without a namespace is exit 2 before anything is uploaded', async () => {
    const host = await startServer({ mode: 'v2', multiUser: true });
    const r = await runCli(['submit', '--host', host], project.root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--namespace');
    expect(server.sequence()).toEqual(['GET /apis/v2beta1/healthz']);
  });

  it('an unreachable host is exit 3', async () => {
    const port = await closedPort();
    const r = await runCli(['submit', '--host', `http://127.0.0.1:${port}`], project.root);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('is unreachable');
    expect(r.stderr).toContain('ECONNREFUSED');
  });

  it('an unknown parameter or a value of the wrong type is exit 2 before any request', async () => {
    const host = await startServer({ mode: 'v2' });
    const unknown = await runCli(['submit', '--host', host, '--param', 'epoch=3'], project.root);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('epoch: unknown pipeline parameter');
    const wrong = await runCli(['submit', '--host', host, '--param', 'epochs=many'], project.root);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('"many" is not an integer');
    const noHost = await runCli(['submit'], project.root);
    expect(noHost.code).toBe(2);
    expect(noHost.stderr).toContain('KF_PIPELINES_ENDPOINT');
    const timeoutAlone = await runCli(['submit', '--host', host, '--timeout', '5'], project.root);
    expect(timeoutAlone.code).toBe(2);
    expect(server.requests).toEqual([]);
  });

  it('a missing spec is exit 2 naming the command that writes it', async () => {
    const host = await startServer({ mode: 'v2' });
    rmSync(join(project.root, 'dist'), { recursive: true });
    const r = await runCli(['submit', '--host', host], project.root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('dist/tiny.yaml (the KFP v2 pipeline spec) is missing');
    expect(r.stderr).toContain('helmet-build all --push <repo>');
    expect(server.requests).toEqual([]);
  });

  it("KFP's error bodies are shown: a version name taken by other content", async () => {
    const host = await startServer({ mode: 'v2' });
    expect((await runCli(['submit', '--host', host, '--version', 'release-1'], project.root)).code).toBe(0);
    await writeSpec(project.root, `registry.example.com/tiny/hello@sha256:${'d'.repeat(64)}`);
    const r = await runCli(['submit', '--host', host, '--version', 'release-1'], project.root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('version release-1 of the pipeline tiny holds other content');
    expect(server.versions).toHaveLength(1);
  });

  it('the test server refuses a field the swagger does not declare, as KFP 2.x does', async () => {
    const host = await startServer({ mode: 'v2' });
    const res = await fetch(`${host}/apis/v2beta1/experiments`, { method: 'POST', body: JSON.stringify({ display_name: 'x', name: 'x' }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 3, message: 'proto: (line 1:2): unknown field "name"', details: [] });
  });
});

describe('submit to KFP 1.8 (v1beta1) and the v1 package', () => {
  it('uploads dist/tiny.v1.yaml through v1beta1, with parameters as text; the same again reuses its version', async () => {
    const host = await startServer({ mode: 'v1' });
    const r = await runCli(['submit', '--host', host, '--param', 'fast=true', '--experiment', 'nightly', '--wait', '--json'], project.root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const version = contentVersion(project.root, 'tiny.v1.yaml');
    const pid = server.pipelines[0]!.id;
    expect(server.sequence()).toEqual([
      'GET /apis/v2beta1/healthz',
      'GET /apis/v1beta1/healthz',
      'GET /apis/v1beta1/pipelines',
      'POST /apis/v1beta1/pipelines/upload',
      'POST /apis/v1beta1/pipelines/upload_version',
      'GET /apis/v1beta1/experiments',
      'POST /apis/v1beta1/experiments',
      'POST /apis/v1beta1/runs',
      `GET /apis/v1beta1/runs/${server.runs[0]!.id}`,
      `GET /apis/v1beta1/runs/${server.runs[0]!.id}`,
    ]);
    expect(server.requests[0]!.status).toBe(404);
    expect(server.requests[3]!.query).toEqual({ name: 'tiny', description: 'two greetings' });
    expect(server.requests[3]!.body).toMatchObject({ field: 'uploadfile', name: 'tiny.v1.yaml' });
    expect(server.requests[4]!.query).toMatchObject({ name: version, pipelineid: pid });
    const run = server.requests[7]!.body as Record<string, unknown>;
    expect(run.pipeline_spec).toEqual({
      parameters: [
        { name: 'who', value: 'me' },
        { name: 'epochs', value: '2' },
        { name: 'fast', value: 'True' },
        { name: 'rate', value: '1.0' },
      ],
    });
    expect(run.resource_references).toEqual([
      { key: { type: 'EXPERIMENT', id: server.experiments[0]!.id }, relationship: 'OWNER' },
      { key: { type: 'PIPELINE_VERSION', id: server.versions[1]!.id }, relationship: 'CREATOR' },
    ]);
    const states = events(r.stdout).filter((e) => e.type === 'run-state');
    expect(states.map((e) => [(e as { state: string }).state, (e as { raw?: string }).raw])).toEqual([
      ['PENDING', undefined],
      ['RUNNING', 'Running'],
      ['SUCCEEDED', 'Succeeded'],
    ]);

    server.clearLog();
    expect((await runCli(['submit', '--host', host, '--experiment', 'nightly'], project.root)).code).toBe(0);
    expect(server.sequence()).toEqual([
      'GET /apis/v2beta1/healthz',
      'GET /apis/v1beta1/healthz',
      'GET /apis/v1beta1/pipelines',
      'GET /apis/v1beta1/pipeline_versions',
      'GET /apis/v1beta1/experiments',
      'POST /apis/v1beta1/runs',
    ]);
    expect(server.versions).toHaveLength(2);
    expect(server.runs).toHaveLength(2);
  });

  it('--api v1 on a KFP 2.x server runs the v1 package through v1beta1', async () => {
    const host = await startServer({ mode: 'v2' });
    const r = await runCli(['submit', '--host', host, '--api', 'v1'], project.root);
    expect(r.code).toBe(0);
    expect(server.sequence()[0]).toBe('GET /apis/v1beta1/healthz');
    expect(server.sequence().filter((s) => s.includes('v2beta1'))).toEqual([]);
    expect(server.runs[0]!.api).toBe('v1beta1');
  });

  it('a v1 server and no dist/tiny.v1.yaml: exit 2 naming the command that writes it', async () => {
    const host = await startServer({ mode: 'v1' });
    rmSync(join(project.root, 'dist', 'tiny.v1.yaml'));
    const r = await runCli(['submit', '--host', host], project.root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('dist/tiny.v1.yaml (the KFP v1 package a KFP 1.x server runs) is missing');
    expect(r.stderr).toContain('helmet-build all --push <repo>');
    expect(server.sequence()).toEqual(['GET /apis/v2beta1/healthz', 'GET /apis/v1beta1/healthz']);
  });

  it('a failed v1 run with --wait is exit 1 with the error KFP 1.x gives', async () => {
    const host = await startServer({ mode: 'v1', outcome: 'FAILED' });
    const r = await runCli(['submit', '--host', host, '--wait'], project.root);
    expect(r.code).toBe(1);
    // How long it took is shown once it is measurable: present or not, the state ends the line's news.
    expect(r.stderr).toMatch(/run \w+: FAILED( \(\d+(\.\d)?s\))?\n/);
    expect(r.stderr).toContain('step second failed: exit status 3');
  });
});
