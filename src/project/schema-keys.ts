import { z } from 'zod';

/**
 * The keys an object schema allows at `path` (array indexes skipped), for "unknown key" messages.
 * Returns undefined where the path runs through something other than objects and arrays.
 */
export function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const key of path) {
    if (!current) return undefined;
    if (current instanceof z.ZodArray) {
      current = unwrap(current.element as z.ZodType);
      if (typeof key === 'number') continue;
    }
    if (!(current instanceof z.ZodObject)) return undefined;
    current = unwrap((current.shape as Record<string, z.ZodType>)[String(key)]);
  }
  if (current instanceof z.ZodArray) current = unwrap(current.element as z.ZodType);
  return current instanceof z.ZodObject ? Object.keys(current.shape) : undefined;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s = schema;
  while (s && (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable)) {
    s = s.unwrap() as z.ZodType;
  }
  return s;
}
