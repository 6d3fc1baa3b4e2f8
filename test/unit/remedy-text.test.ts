import { describe, expect, it } from 'vitest';
import { hintText, remedyText } from '../../src/cli/remedy-text.js';

describe('remedies in words', () => {
  it('build-first names every component and the push target, or a placeholder without one', () => {
    expect(remedyText({ kind: 'build-first', components: ['train', 'prepare'], push: 'reg:5000/ml' })).toBe(
      'Build it first: helmet-build build train prepare --push reg:5000/ml',
    );
    expect(remedyText({ kind: 'build-first', components: ['train'] })).toContain('--push <repo>');
  });

  it('write-specs says which spec and why it is written again', () => {
    expect(remedyText({ kind: 'write-specs', spec: 'v1-package', problem: 'missing' })).toContain('--api v2');
    expect(remedyText({ kind: 'write-specs', spec: 'v2-spec', problem: 'stale' })).toContain('for the current pipeline.yaml');
    expect(remedyText({ kind: 'write-specs', spec: 'v2-spec', problem: 'unreadable' })).toMatch(/writes the v2 spec again\.$/);
  });

  it("a hint line joins the error's own words with its remedy, and is absent when it has neither", () => {
    expect(hintText({ hint: 'Look at the log.', remedy: { kind: 'build-first', components: ['a'], push: 'r' } })).toBe(
      'Look at the log. Build it first: helmet-build build a --push r',
    );
    expect(hintText({})).toBeUndefined();
  });
});
