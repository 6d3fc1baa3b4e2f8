/**
 * KFP's v1 loader reads an optional field given as `null` (`outputs:` with nothing after it) as
 * absent. The same keys are dropped here before validation, so such files load as KFP loads them
 * and the emitted component spec carries no empty keys.
 */

type Json = Record<string, unknown>;

const COMPONENT_KEYS = ['name', 'description', 'version', 'metadata', 'inputs', 'outputs'];
const METADATA_KEYS = ['annotations', 'labels'];
const INPUT_KEYS = ['type', 'description', 'optional', 'annotations'];
const OUTPUT_KEYS = ['type', 'description', 'annotations'];
const CONTAINER_KEYS = ['image', 'command', 'args', 'env', 'fileOutputs'];

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function dropNullKeys(obj: unknown, keys: string[]): void {
  if (!isObject(obj)) return;
  for (const k of keys) if (obj[k] === null) delete obj[k];
}

/** Drops, in place, the optional keys KFP treats as absent when null; returns the same value. */
export function dropKfpNulls(raw: unknown): unknown {
  if (!isObject(raw)) return raw;
  dropNullKeys(raw, COMPONENT_KEYS);
  dropNullKeys(raw.metadata, METADATA_KEYS);
  for (const input of Array.isArray(raw.inputs) ? raw.inputs : []) dropNullKeys(input, INPUT_KEYS);
  for (const output of Array.isArray(raw.outputs) ? raw.outputs : []) dropNullKeys(output, OUTPUT_KEYS);
  const implementation = raw.implementation;
  if (isObject(implementation)) dropNullKeys(implementation.container, CONTAINER_KEYS);
  return raw;
}
