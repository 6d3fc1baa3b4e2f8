import { describe, expect, it } from 'vitest';
import { parseImageRef, parsePushTarget } from '../../src/registry/image-ref.js';

describe('image references', () => {
  it('reads familiar and qualified names as the docker CLI does', () => {
    expect(parseImageRef('busybox')).toMatchObject({ registry: 'docker.io', repository: 'library/busybox' });
    expect(parseImageRef('localhost:5000/helmet/train:v1')).toMatchObject({ registry: 'localhost:5000', repository: 'helmet/train', tag: 'v1' });
    expect(parseImageRef(`ghcr.io/acme/x@sha256:${'a'.repeat(64)}`)).toMatchObject({
      registry: 'ghcr.io',
      repository: 'acme/x',
      digest: `sha256:${'a'.repeat(64)}`,
    });
  });

  it('splits --push into registry and prefix, refusing tags', () => {
    expect(parsePushTarget('localhost:5000/helmet')).toEqual({ registry: 'localhost:5000', prefix: 'helmet' });
    expect(parsePushTarget('ghcr.io/acme/ml/')).toEqual({ registry: 'ghcr.io', prefix: 'acme/ml' });
    expect(parsePushTarget('registry.example:5000')).toEqual({ registry: 'registry.example:5000', prefix: '' });
    expect(() => parsePushTarget('localhost:5000/helmet:v1')).toThrow(/--push takes a registry and optional path/);
    expect(() => parsePushTarget('Bad Name')).toThrow(/--push takes a registry/);
  });
});
