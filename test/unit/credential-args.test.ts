import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialLooking, credentialValues, maskCredentialArgs, redactor } from '../../src/text/credential-args.js';

const hash = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

describe('credential-looking build args', () => {
  it('by name (any case) or by a URL with a password; other args pass', () => {
    for (const name of ['GITHUB_TOKEN', 'db_password', 'PASSWD', 'Client_Secret', 'OPENAI_API_KEY', 'AWS_CREDENTIALS'])
      expect(credentialLooking(name, 'x'), name).toBe('name');
    expect(credentialLooking('PIP_INDEX_URL', 'https://ci:t0k@pypi.corp/simple')).toBe('url-password');
    expect(credentialLooking('PIP_INDEX_URL', 'https://pypi.corp/simple')).toBeUndefined();
    expect(credentialLooking('MIRROR', 'https://user@host/x')).toBeUndefined();
    expect(credentialLooking('BASE_IMAGE', 'python:3.11-slim')).toBeUndefined();
    expect(credentialLooking('TOKEN', '')).toBeUndefined();
  });

  it('masks values as sha256:<hex>, in args and in any text that holds them', () => {
    const args = { PIP_INDEX_URL: 'https://ci:abc@pypi/simple', API_TOKEN: 'abc', BASE_IMAGE: 'busybox' };
    expect(maskCredentialArgs(args)).toEqual({ PIP_INDEX_URL: hash(args.PIP_INDEX_URL), API_TOKEN: hash('abc'), BASE_IMAGE: 'busybox' });
    const clean = redactor(credentialValues(args));
    // The longer value first: the URL is replaced whole, not around its inner token.
    expect(clean(`[2/2] RUN test -n "${args.PIP_INDEX_URL}" && echo abc`)).toBe(`[2/2] RUN test -n "${hash(args.PIP_INDEX_URL)}" && echo ${hash('abc')}`);
    expect(redactor([])('unchanged')).toBe('unchanged');
  });
});
