import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemas } from '../../src/project/json-schemas.js';

describe('schema/*.json', () => {
  it('match the zod schemas the CLI validates with (regenerate with make schemas)', () => {
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      const committed = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'schema', name), 'utf8'));
      expect(committed, name).toEqual(JSON.parse(JSON.stringify(schema)));
    }
  });

  it('reject unknown keys and list the build keys', () => {
    const component = jsonSchemas()['component.schema.json'] as { additionalProperties: boolean; properties: { build: { properties: object } } };
    expect(component.additionalProperties).toBe(false);
    expect(Object.keys(component.properties.build.properties)).toEqual([
      'image',
      'dockerfile',
      'context',
      'args',
      'add',
      'from',
      'platform',
      'platforms',
      'target',
      'network',
      'secrets',
      'ssh',
    ]);
  });
});
