import { UsageError } from '../errors.js';

/** Collect a repeatable option into an array (commander helper). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parsePositiveInt(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a positive whole number, got "${value}"`);
    return n;
  };
}

/**
 * `--build-arg KEY=V` applies to every component; `--build-arg train:KEY=V` to one.
 * A key is an identifier, so the first `:` before `=` marks a component name.
 */
export function parseBuildArgs(values: string[]): {
  global: Record<string, string>;
  perComponent: Record<string, Record<string, string>>;
} {
  const global: Record<string, string> = {};
  const perComponent: Record<string, Record<string, string>> = {};
  for (const raw of values) {
    const m = /^(?:([a-z0-9][a-z0-9._-]*):)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(raw);
    if (!m) {
      throw new UsageError(`--build-arg "${raw}" is not KEY=VALUE or COMPONENT:KEY=VALUE`, {
        hint: 'Example: --build-arg BASE_IMAGE=python:3.11-slim --build-arg train:TORCH_CUDA=cu121',
      });
    }
    const [, component, key, value] = m as unknown as [string, string | undefined, string, string];
    if (component) (perComponent[component] ??= {})[key] = value;
    else global[key] = value;
  }
  return { global, perComponent };
}
