/**
 * Signed images, verified by cosign itself (2.5.0 from the Debian 13 root of scripts/services.sh),
 * never by the project's own code: keys made by `cosign generate-key-pair`, signatures stored as cosign
 * stores them, a signature cosign made earlier kept beside helmet-build's, a no-op run writing nothing.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, ndjson, runCli, snapshotTree, TINY_DOCKERFILE, tinyComponent, withEnv } from '../support/project.js';
import { registryDigest, removeImages, services, uniqueName } from '../support/services.js';

const cosign = process.env.HELMET_TEST_COSIGN;
const PASSWORD = 'correct horse';

// cosign comes with the Debian 13 root: without it (HELMET_SKIP_MODERN_ENGINE) there is no verifier to test against.
describe.skipIf(!cosign && !!process.env.HELMET_SKIP_MODERN_ENGINE)('images signed as cosign signs them', () => {
  const keys = mkdtempSync(join(tmpdir(), 'helmet-cosign-'));
  const image = uniqueName('signed');
  const prefix = uniqueName('sign');
  const push = () => `${services.registry}/${prefix}`;
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('hello', image, 'hello') });
  const cosignRun = (args: string[], env: Record<string, string> = {}) => {
    if (!cosign) throw new Error('HELMET_TEST_COSIGN is not set: start the services with scripts/services.sh up');
    return execa(cosign, args, { cwd: keys, reject: false, env: { HOME: keys, COSIGN_PASSWORD: PASSWORD, ...env } });
  };
  const verify = (pub: string, ref: string) => cosignRun(['verify', '--key', pub, '--insecure-ignore-tlog', '--allow-http-registry', ref]);
  const helmet = (args: string[], env: Record<string, string | undefined> = { COSIGN_PASSWORD: PASSWORD }) => withEnv(env, () => runCli(args, project.root));
  const pinned = () => JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components.hello.image as string;

  beforeAll(async () => {
    for (const name of ['ours', 'theirs', 'stranger']) {
      const made = await cosignRun(['generate-key-pair', '--output-key-prefix', name]);
      expect(made.exitCode, made.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    project.cleanup();
    rmSync(keys, { recursive: true, force: true });
    await removeImages(`${services.registry}/${prefix}`);
  });

  it('a wrong password is exit 2 before anything is built, naming the key file and never the password', async () => {
    const r = await helmet(['all', '--push', push(), '--sign-key', join(keys, 'ours.key')], { COSIGN_PASSWORD: 'wrong guess' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`signing key ${join(keys, 'ours.key')}: the password does not decrypt it`);
    expect(r.stderr).not.toContain('wrong guess');
    expect(r.stderr).not.toContain('[hello] built');
  });

  it('signs the pinned digest beside a signature cosign made before, and a no-op run signs nothing again', async () => {
    // An image signed by cosign with another key first.
    const first = await helmet(['all', '--push', push(), '--json'], {});
    expect(first.code, first.stderr).toBe(0);
    const ref = pinned();
    const theirs = await cosignRun(['sign', '--yes', '--key', 'theirs.key', '--tlog-upload=false', '--allow-http-registry', ref]);
    expect(theirs.exitCode, theirs.stderr).toBe(0);

    const signed = await helmet(['all', '--push', push(), '--sign-key', join(keys, 'ours.key'), '--json']);
    expect(signed.code, signed.stderr).toBe(0);
    expect(pinned()).toBe(ref);
    const ours = await verify('ours.pub', ref);
    expect(ours.exitCode, ours.stderr).toBe(0);
    expect(ours.stdout).toContain(ref.split('@')[1]);
    expect((await verify('theirs.pub', ref)).exitCode).toBe(0);
    expect((await verify('stranger.pub', ref)).exitCode).not.toBe(0);
    // The password is in no output, event or file helmet-build writes.
    expect(signed.stdout + signed.stderr).not.toContain(PASSWORD);
    for (const [file, content] of Object.entries(snapshotTree(join(project.root, 'dist')))) expect(content, file).not.toContain(PASSWORD);

    const sigTag = `${ref.split('@')[1]!.replace(':', '-')}.sig`;
    const repository = `${prefix}/${image}`;
    const before = await registryDigest(services.registry, repository, sigTag, undefined, 'application/vnd.oci.image.manifest.v1+json');
    const again = await helmet(['all', '--push', push(), '--sign-key', join(keys, 'ours.key'), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(ndjson(again.stdout).some((e) => e.type === 'job-finished' && e.job === 'sign:hello' && e.summary.startsWith('signed before by this key'))).toBe(
      true,
    );
    expect(await registryDigest(services.registry, repository, sigTag, undefined, 'application/vnd.oci.image.manifest.v1+json')).toBe(before);
  });

  it('an image built in a signing run gets a SLSA provenance cosign verifies, naming the input digest build.json records; a no-op run attests nothing again', async () => {
    writeFileSync(join(project.root, 'components/hello/main.sh'), 'echo "changed"\n');
    const r = await helmet(['all', '--push', push(), '--sign-key', join(keys, 'ours.key'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components.hello;
    expect(record.action).toBe('pushed');
    const attested = await cosignRun([
      'verify-attestation',
      '--key',
      'ours.pub',
      '--type',
      'slsaprovenance1',
      '--insecure-ignore-tlog',
      '--allow-http-registry',
      record.image,
    ]);
    expect(attested.exitCode, attested.stderr).toBe(0);
    const envelope = JSON.parse(attested.stdout.trim().split('\n')[0]!);
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.subject[0].digest.sha256).toBe(record.digest.replace('sha256:', ''));
    expect(statement.predicate.buildDefinition.externalParameters.inputDigest).toBe(record.inputDigest);
    // Who built it and when: the builder, the engine's version, the build's start and end.
    expect(statement.predicate.buildDefinition.internalParameters.builder).toBe('buildkit');
    expect(statement.predicate.runDetails.builder.version.docker).toMatch(/^\d+\.\d+\.\d+/);
    const { startedOn, finishedOn } = statement.predicate.runDetails.metadata;
    expect(Date.parse(startedOn)).toBeLessThanOrEqual(Date.parse(finishedOn));
    expect(
      (
        await cosignRun([
          'verify-attestation',
          '--key',
          'stranger.pub',
          '--type',
          'slsaprovenance1',
          '--insecure-ignore-tlog',
          '--allow-http-registry',
          record.image,
        ])
      ).exitCode,
    ).not.toBe(0);

    const attTag = `${record.digest.replace(':', '-')}.att`;
    const before = await registryDigest(services.registry, `${prefix}/${image}`, attTag, undefined, 'application/vnd.oci.image.manifest.v1+json');
    const again = await helmet(['all', '--push', push(), '--sign-key', join(keys, 'ours.key'), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(await registryDigest(services.registry, `${prefix}/${image}`, attTag, undefined, 'application/vnd.oci.image.manifest.v1+json')).toBe(before);
  });

  it('verify: one line per pinned image; another key, or inputs changed since the build, is exit 1 naming what is wrong', async () => {
    const good = await runCli(['verify', '--key', join(keys, 'ours.pub')], project.root);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^ok {3}hello +\S+@sha256:[0-9a-f]{64}: signed; its provenance names the current inputs$/m);
    const stranger = await runCli(['verify', '--key', join(keys, 'stranger.pub')], project.root);
    expect(stranger.code).toBe(1);
    expect(stranger.stdout).toContain(`: not signed by ${join(keys, 'stranger.pub')}`);
    writeFileSync(join(project.root, 'components/hello/main.sh'), 'echo "changed again"\n');
    const changed = await runCli(['verify', '--key', join(keys, 'ours.pub')], project.root);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/: built from other inputs: its provenance says sha256:[0-9a-f]{64}, the current inputs give sha256:[0-9a-f]{64}$/m);
  });

  it('with sign: in helmet-build.yaml, submit refuses images that do not pass verify (exit 1), before any request to KFP', async () => {
    // The inputs changed after the last signed build (the test before): its provenance names other inputs.
    writeFileSync(join(project.root, 'helmet-build.yaml'), `sign: {key: ${join(keys, 'ours.key')}}\n`);
    try {
      const r = await runCli(['submit', '--host', 'http://127.0.0.1:9'], project.root);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('FAIL hello: ');
      expect(r.stderr).toContain('built from other inputs');
      expect(r.stderr).toContain('not submitted: hello did not pass verify');
      // Refused before KFP was asked anything: no connection error to the (closed) port.
      expect(r.stderr).not.toContain('127.0.0.1:9');
    } finally {
      rmSync(join(project.root, 'helmet-build.yaml'));
    }
  });

  it('a signature payload altered in the registry no longer passes verify (exit 1), though the manifest still lists it', async () => {
    writeFileSync(join(project.root, 'components/hello/main.sh'), 'echo "changed"\n');
    const record = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components.hello;
    const repository = `${prefix}/${image}`;
    const sigTag = `${record.digest.replace(':', '-')}.sig`;
    const accept = { Accept: 'application/vnd.oci.image.manifest.v1+json' };
    const manifest = await (await fetch(`http://${services.registry}/v2/${repository}/manifests/${sigTag}`, { headers: accept })).json();
    // Each layer's payload swapped for one naming another digest, the signatures kept as they were.
    for (const layer of manifest.layers) {
      const payload = Buffer.from(
        JSON.stringify({
          critical: {
            identity: { 'docker-reference': repository },
            image: { 'docker-manifest-digest': `sha256:${'0'.repeat(64)}` },
            type: 'cosign container image signature',
          },
          optional: null,
        }),
      );
      const started = await fetch(`http://${services.registry}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
      const location = new URL(started.headers.get('location')!, `http://${services.registry}`);
      location.searchParams.set('digest', `sha256:${createHash('sha256').update(payload).digest('hex')}`);
      expect((await fetch(location, { method: 'PUT', body: payload })).status).toBe(201);
      layer.digest = location.searchParams.get('digest');
      layer.size = payload.length;
    }
    const put = await fetch(`http://${services.registry}/v2/${repository}/manifests/${sigTag}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: JSON.stringify(manifest),
    });
    expect(put.status).toBe(201);
    const r = await runCli(['verify', '--key', join(keys, 'ours.pub')], project.root);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`: not signed by ${join(keys, 'ours.pub')}`);
  });
});
