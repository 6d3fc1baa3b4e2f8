import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { projectTransportMemory } from '../../src/registry/transport-memory.js';

const roots: string[] = [];
function root(): string {
  const dir = mkdtempSync(join(tmpdir(), 'helmet-transports-'));
  roots.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of roots.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const file = (dir: string) => join(dir, '.helmet-cache', 'registry-transports.json');

describe('what a project remembers of registries that speak plain HTTP', () => {
  it('a registry found plain is remembered by the next run, and forgotten when it no longer is', () => {
    const dir = root();
    expect(projectTransportMemory(dir).speaksPlainHttp('127.0.0.1:5000')).toBe(false);
    projectTransportMemory(dir).remember('127.0.0.1:5000', true);
    expect(readFileSync(join(dir, '.helmet-cache', '.gitignore'), 'utf8')).toBe('*\n');
    const next = projectTransportMemory(dir);
    expect(next.speaksPlainHttp('127.0.0.1:5000')).toBe(true);
    expect(next.speaksPlainHttp('127.0.0.1:5001')).toBe(false);
    next.remember('127.0.0.1:5000', false);
    expect(projectTransportMemory(dir).speaksPlainHttp('127.0.0.1:5000')).toBe(false);
  });

  it('writes only when something changes', () => {
    const dir = root();
    const memory = projectTransportMemory(dir);
    memory.remember('localhost:5000', false);
    expect(existsSync(file(dir))).toBe(false);
    memory.remember('localhost:5000', true);
    writeFileSync(file(dir), 'left alone\n');
    memory.remember('localhost:5000', true);
    expect(readFileSync(file(dir), 'utf8')).toBe('left alone\n');
  });

  it('keeps the 64 registries learnt last', () => {
    const dir = root();
    const memory = projectTransportMemory(dir);
    for (let port = 1; port <= 70; port++) memory.remember(`127.0.0.1:${port}`, true);
    const next = projectTransportMemory(dir);
    expect(next.speaksPlainHttp('127.0.0.1:6')).toBe(false);
    expect(next.speaksPlainHttp('127.0.0.1:7')).toBe(true);
    expect(next.speaksPlainHttp('127.0.0.1:70')).toBe(true);
  });

  it('a file that is garbage, of another version or not a list is an empty memory', () => {
    for (const text of ['{not json', '{"version":2,"plainHttp":["r:1"]}', '{"version":1,"plainHttp":"r:1"}']) {
      const dir = root();
      projectTransportMemory(dir).remember('other:1', true);
      writeFileSync(file(dir), text);
      expect(projectTransportMemory(dir).speaksPlainHttp('r:1'), text).toBe(false);
    }
  });

  it('a cache folder that cannot be written costs only the memory, not the run', () => {
    const dir = root();
    writeFileSync(join(dir, '.helmet-cache'), 'a file where the folder would be');
    const memory = projectTransportMemory(dir);
    expect(() => memory.remember('127.0.0.1:5000', true)).not.toThrow();
    expect(memory.speaksPlainHttp('127.0.0.1:5000')).toBe(true);
  });
});
