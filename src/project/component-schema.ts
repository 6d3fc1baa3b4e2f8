import { z } from 'zod';
import { PLATFORM } from '../names/platform.js';

/**
 * A component.yaml is a KFP v1 component spec (as accepted by KFP's own loader,
 * `kfp/components/_structures.py` at 1.8.22) plus one top-level key, `build:`.
 * Objects are strict: an unknown key is an error, so typos never pass silently.
 */

// A KFP type is a name ("Integer") or a nested object ({GCSPath: {data_type: CSV}}).
export type TypeSpec = string | { [key: string]: TypeSpec };
const typeSpecSchema: z.ZodType<TypeSpec> = z.lazy(() => z.union([z.string(), z.record(z.string(), typeSpecSchema)]));

const primitive = z.union([z.string(), z.number(), z.boolean()]);

const inputSpecSchema = z.strictObject({
  name: z.string().min(1),
  type: typeSpecSchema.optional(),
  description: z.string().optional(),
  default: primitive.nullable().optional(),
  optional: z.boolean().optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});

const outputSpecSchema = z.strictObject({
  name: z.string().min(1),
  type: typeSpecSchema.optional(),
  description: z.string().optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});

export type Placeholder =
  | string
  | { inputValue: string }
  | { inputPath: string }
  | { inputUri: string }
  | { outputPath: string }
  | { outputUri: string }
  | { isPresent: string }
  | { executorInput: null }
  | { concat: Placeholder[] }
  | { if: { cond: boolean | string | Placeholder; then: Placeholder | Placeholder[]; else?: Placeholder | Placeholder[] } };

const placeholderSchema: z.ZodType<Placeholder> = z.lazy(() =>
  z.union(
    [
      z.string(),
      z.number().transform(String),
      z.strictObject({ inputValue: z.string() }),
      z.strictObject({ inputPath: z.string() }),
      z.strictObject({ inputUri: z.string() }),
      z.strictObject({ outputPath: z.string() }),
      z.strictObject({ outputUri: z.string() }),
      z.strictObject({ isPresent: z.string() }),
      // The whole executor input as JSON (KFP v2 components written as v1 files use it).
      z.strictObject({ executorInput: z.null() }),
      z.strictObject({ concat: z.array(placeholderSchema) }),
      z.strictObject({
        if: z.strictObject({
          cond: z.union([z.boolean(), placeholderSchema]),
          // KFP's loader accepts a single item or a list for the branches.
          then: z.union([placeholderSchema, z.array(placeholderSchema)]),
          else: z.union([placeholderSchema, z.array(placeholderSchema)]).optional(),
        }),
      }),
    ],
    // What a problem message says is expected (see yaml-source.ts).
    { error: 'a string or one of the KFP placeholders' },
  ),
);

const containerSpecSchema = z.strictObject({
  image: z.string().optional(),
  command: z.array(placeholderSchema).optional(),
  args: z.array(placeholderSchema).optional(),
  env: z.record(z.string(), placeholderSchema).optional(),
  fileOutputs: z.record(z.string(), z.string()).optional(),
});

/** A secret or SSH id: letters, digits, `.`, `_` and `-`. */
const BUILD_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** An image repository name as Docker takes it: lowercase path segments. */
export const IMAGE_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const ID_MESSAGE = 'must be an id of letters, digits, ".", "_" and "-", e.g. pip';

/** `add:`: a place in the context, and the folders merged there (one, or a list), in order. */
/** Platforms to build for, each built on its own and joined in one OCI image index (with --push); part of the input digest. */
export const platformsSchema = z
  .array(z.string().regex(PLATFORM, { message: 'must be a platform os/arch[/variant], e.g. linux/arm64' }))
  .min(1)
  .refine((list) => new Set(list).size === list.length, { message: 'names a platform twice' });

export const addSchema = z.record(
  z.string().min(1),
  z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
);

export const buildSpecSchema = z.strictObject({
  /** Repository name of the image, under `--push <repo>`. @default the last path segment of implementation.container.image, without its tag */
  image: z
    .string()
    .regex(IMAGE_NAME, {
      message: 'must be a lowercase image repository name, e.g. helmet-train',
    })
    .optional(),
  /** Dockerfile path, relative to the project root. @default the Dockerfile beside component.yaml */
  dockerfile: z.string().min(1).optional(),
  /** Build context, relative to the component folder. @default "." */
  context: z.string().min(1).default('.'),
  /** Build args; part of the input digest. */
  args: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  /** Folders merged into the context at a path (relative to the component folder), in order: a later folder's file wins, as a script's rsync left them; part of the input digest. */
  add: addSchema.optional(),
  /** Another component whose image this one starts from; passed as build arg BASE_IMAGE. */
  from: z.string().min(1).optional(),
  /** Target platform, e.g. linux/amd64; part of the input digest. */
  platform: z.string().optional(),
  platforms: platformsSchema.optional(),
  /** Stage of a multi-stage Dockerfile to build; part of the input digest. */
  target: z.string().min(1).optional(),
  /** Network of RUN steps (host, none, …). @default the engine's, or host on an engine without a bridge network */
  network: z.string().min(1).optional(),
  /** Ids of the build secrets the Dockerfile mounts (`RUN --mount=type=secret,id=ID`), given with --secret; the ids are part of the input digest, the values never. */
  secrets: z.array(z.string().regex(BUILD_ID, { message: ID_MESSAGE })).optional(),
  /** Ids of the SSH agents the Dockerfile mounts (`RUN --mount=type=ssh`, id `default`), given with --ssh. */
  ssh: z.array(z.string().regex(BUILD_ID, { message: ID_MESSAGE })).optional(),
});

export const componentFileSchema = z.strictObject({
  /** Display name; KFP's loader makes it optional (helmet-build then shows the folder name). */
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  version: z.string().optional(),
  metadata: z
    .strictObject({
      annotations: z.record(z.string(), z.unknown()).optional(),
      labels: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  inputs: z.array(inputSpecSchema).optional(),
  outputs: z.array(outputSpecSchema).optional(),
  implementation: z.strictObject({ container: containerSpecSchema }),
  build: buildSpecSchema.optional(),
});

export type ComponentFile = z.infer<typeof componentFileSchema>;
export type BuildSpec = z.infer<typeof buildSpecSchema>;
