/**
 * How a component's command line reads its inputs, as kfp 1.x decides what an input is: one read with
 * `inputValue` is a value, one read with `inputPath` (or `inputUri`) a file — whatever its type name.
 * Kept apart from the loader: publishing asks it too, without loading the YAML and schema code.
 */
import type { ComponentFile } from './component-schema.js';
import { ioKind } from './model.js';

/** How the command line reads each input: as a value (`inputValue`), as a file (`inputPath`, `inputUri`). */
export function inputReadings(spec: ComponentFile): Map<string, Set<'value' | 'file'>> {
  const readings = new Map<string, Set<'value' | 'file'>>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      const how = key === 'inputValue' ? 'value' : key === 'inputPath' || key === 'inputUri' ? 'file' : undefined;
      if (how && typeof inner === 'string') {
        if (!readings.has(inner)) readings.set(inner, new Set());
        readings.get(inner)!.add(how);
      } else visit(inner);
    }
  };
  const { command, args, env } = spec.implementation.container;
  for (const part of [command, args, env]) visit(part);
  return readings;
}

/**
 * Inputs of a file type (by KFP's rules) that the command line reads as values: kfp 2.x would make
 * them artifacts and refuse a string for them, so the v2 spec types them STRING, as kfp 2.x compiles
 * the same component with those inputs typed `String`. Said once per component.
 */
export function valueReadFileInputs(spec: ComponentFile): string[] {
  const readings = inputReadings(spec);
  return (spec.inputs ?? [])
    .filter((input) => ioKind(input.type).kind === 'artifact' && readings.get(input.name)?.size === 1 && readings.get(input.name)?.has('value'))
    .map((input) => input.name);
}
