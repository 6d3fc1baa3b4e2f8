import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baseImages } from '../../src/dockerfile/from-lines.js';
import { baseRegistries } from '../../src/engine/dockerfile-bases.js';
import { registryOfHost } from '../../src/names/docker-hub.js';
import { CredentialSource } from '../../src/registry/credentials.js';

describe('the images a Dockerfile pulls (for the classic builder’s X-Registry-Config)', () => {
  it('substitutes global ARGs, with build args over defaults, and skips stages and scratch', () => {
    const dockerfile = [
      '# syntax=docker/dockerfile:1',
      'ARG BASE_IMAGE=python:3.11-slim',
      'ARG REG=harbor.corp \\',
      '    TAG="12.4"',
      'FROM --platform=$BUILDPLATFORM ${REG}/ml/cuda-base:${TAG} AS build',
      'RUN echo',
      'FROM build AS again',
      'FROM ${BASE_IMAGE}',
      'FROM ${MISSING:-busybox}',
      'FROM scratch',
      'COPY --from=build /a /a',
    ].join('\n');
    expect(baseImages(dockerfile, {})).toEqual(['harbor.corp/ml/cuda-base:12.4', 'python:3.11-slim', 'busybox']);
    expect(baseImages(dockerfile, { BASE_IMAGE: '127.0.0.1:5001/private/busybox:1', TAG: '13' })).toEqual([
      'harbor.corp/ml/cuda-base:13',
      '127.0.0.1:5001/private/busybox:1',
      'busybox',
    ]);
    expect(baseRegistries(dockerfile, { BASE_IMAGE: '127.0.0.1:5001/private/busybox:1' })).toEqual(['harbor.corp', '127.0.0.1:5001', 'docker.io']);
  });

  it('an ARG declared after the first FROM does not reach later FROM lines', () => {
    expect(baseImages('FROM busybox\nARG X=foo.example/img\nFROM ${X:-alpine}\n', { X: 'bar.example/img' })).toEqual(['busybox', 'alpine']);
  });

  it('Docker Hub, as BuildKit names it, is docker.io', () => {
    expect(registryOfHost('registry-1.docker.io')).toBe('docker.io');
    expect(registryOfHost('127.0.0.1:5001')).toBe('127.0.0.1:5001');
  });
});

describe('credentials for pulls', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('HELMET_REGISTRY_USER/PASSWORD go to the push registry only; other registries read the Docker config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helmet-cfg-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'base.example': { auth: Buffer.from('cfg:cfgpw').toString('base64') } } }));
    const source = new CredentialSource({ env: { HELMET_REGISTRY_USER: 'env', HELMET_REGISTRY_PASSWORD: 'envpw' }, dockerConfigDir: dir });
    expect(await source.forPull('push.example', 'push.example')).toMatchObject({ username: 'env' });
    expect(await source.forPull('base.example', 'push.example')).toMatchObject({ username: 'cfg', password: 'cfgpw' });
    expect(await source.forPull('docker.io', 'push.example')).toBeUndefined();
    // Without a push target they are the only login there is: every registry gets them.
    expect(await source.forPull('docker.io', undefined)).toMatchObject({ username: 'env' });
  });
});
