import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSecrets, parseSsh } from '../../src/cli/options.js';
import { inputRecord } from '../../src/context/input-digest.js';
import { checkBuildNeeds } from '../../src/project/build-needs.js';
import type { BuiltComponent } from '../../src/project/model.js';

const inputDigestOf = (inputs: Parameters<typeof inputRecord>[0]): string => inputRecord(inputs).inputDigest;

const dir = mkdtempSync(join(tmpdir(), 'helmet-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--secret', () => {
  it("takes docker's forms; without env or src, the variable named like the id; the value is never read", () => {
    writeFileSync(join(dir, 'token'), 'value');
    const env = { PIP_TOKEN: 'x', npm: 'y' };
    expect(parseSecrets(['id=pip,env=PIP_TOKEN', 'id=file,src=token', 'id=npm', 'id=typed,type=file,source=token'], dir, env)).toEqual([
      { id: 'pip', env: 'PIP_TOKEN' },
      { id: 'file', file: join(dir, 'token') },
      { id: 'npm', env: 'npm' },
      { id: 'typed', file: join(dir, 'token') },
    ]);
  });

  it('refuses, by id, a missing file, an unset variable, both sources, a missing id, an id given twice', () => {
    const bad: [string[], RegExp][] = [
      [['id=pip,src=nope'], /--secret id=pip: src file .*nope does not exist/],
      [['id=pip,env=UNSET_VAR'], /--secret id=pip: environment variable UNSET_VAR is not set/],
      [['id=pip,env=A,src=token'], /not both/],
      [['env=A'], /needs id=ID/],
      [['id=pip,what=1'], /unknown field what/],
      [['id=npm', 'id=npm'], /given twice/],
    ];
    for (const [values, message] of bad) expect(() => parseSecrets(values, dir, { A: '1', npm: 'y' }), values.join(' ')).toThrow(message);
  });
});

describe('--ssh', () => {
  it('default id and $SSH_AUTH_SOCK; ID=SOCKET; a path that is no socket is refused', async () => {
    const socket = join(dir, 'agent.sock');
    const server = createServer().listen(socket);
    await new Promise((r) => server.once('listening', r));
    expect(parseSsh(['default'], dir, { SSH_AUTH_SOCK: socket })).toEqual([{ id: 'default', socket }]);
    expect(parseSsh(['git=agent.sock'], dir, {})).toEqual([{ id: 'git', socket }]);
    expect(() => parseSsh(['default'], dir, {})).toThrow(/SSH_AUTH_SOCK is not set/);
    expect(() => parseSsh(['git=token'], dir, {})).toThrow(/is not an agent socket/);
    server.close();
  });
});

describe('what builds need, checked at load time', () => {
  const component = (name: string, secrets: string[], ssh: string[] = []) =>
    ({ kind: 'built', name, file: `components/${name}/component.yaml`, build: { secrets, ssh } }) as unknown as BuiltComponent;

  it('names every component and id that is missing; the classic builder can mount none', () => {
    expect(() => checkBuildNeeds([component('train', ['pip'], ['default'])], { secrets: ['pip'], ssh: ['default'] })).not.toThrow();
    expect(() => checkBuildNeeds([component('train', ['pip', 'npm'], ['git'])], { secrets: ['pip'], ssh: [] })).toThrow(
      /component train needs build secret "npm".*\n.*component train needs SSH agent "git"/,
    );
    expect(() => checkBuildNeeds([component('train', ['pip'])], { secrets: ['pip'], ssh: [], builder: 'classic' })).toThrow(
      /component train needs secret "pip" .*classic builder cannot mount/,
    );
  });

  it('secret and SSH ids are part of the input digest, in any order; without them the digest is as before', () => {
    const context = { entries: [], dockerfileContent: Buffer.from('FROM x\n') } as never;
    const plain = inputDigestOf({ context, buildArgs: {} });
    expect(inputDigestOf({ context, buildArgs: {}, secrets: [], ssh: [] })).toBe(plain);
    const withPip = inputDigestOf({ context, buildArgs: {}, secrets: ['pip', 'npm'] });
    expect(withPip).not.toBe(plain);
    expect(inputDigestOf({ context, buildArgs: {}, secrets: ['npm', 'pip'] })).toBe(withPip);
    expect(inputDigestOf({ context, buildArgs: {}, ssh: ['pip', 'npm'] })).not.toBe(withPip);
  });
});
