import { z } from 'zod';
import { DNS_STYLE_NAME } from './names.js';

/**
 * pipeline.yaml: the pipeline graph. Steps name components and wire their inputs to pipeline
 * parameters or literals; one shared volume is mounted into every step.
 */
const scalar = z.union([z.string(), z.number(), z.boolean()]);

const parameterSchema = z.strictObject({
  type: z.enum(['String', 'Integer', 'Float', 'Boolean']).default('String'),
  default: scalar.optional(),
  description: z.string().optional(),
});

/**
 * A step argument: `{param: name}` reads a pipeline parameter; `{from: step, output: name}` takes
 * another step's output (a file, or a small value); a scalar is a literal.
 */
const argumentSchema = z.union(
  [scalar, z.strictObject({ param: z.string().min(1) }), z.strictObject({ from: z.string().min(1), output: z.string().min(1) })],
  // What a problem message says is expected (see yaml-source.ts).
  { error: 'a value, {param: NAME} or {from: STEP, output: NAME}' },
);

const quantity = z.union([
  z.string().regex(/^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, 'must be a Kubernetes quantity such as 2, 500m, 8G or 8Gi'),
  z.number().positive(),
]);

const resourcesSchema = z.strictObject({
  cpu: quantity.optional(),
  memory: quantity.optional(),
  cpuLimit: quantity.optional(),
  memoryLimit: quantity.optional(),
  gpu: z.number().int().positive().optional(),
  /** @default nvidia.com/gpu */
  gpuType: z.string().default('nvidia.com/gpu'),
});

const stepName = z.string().regex(DNS_STYLE_NAME, 'must be lowercase letters, digits and dashes');

/** Names of Kubernetes Secrets of type kubernetes.io/dockerconfigjson, in the namespace the pipeline runs in. */
const pullSecrets = z
  .array(
    z
      .string()
      .max(253, 'must be at most 253 characters (a Kubernetes object name)')
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a Kubernetes Secret name: lowercase letters, digits, - and .'),
  )
  .refine((names) => new Set(names).size === names.length, 'names a secret twice');

const stepSchema = z.strictObject({
  component: z.string().min(1),
  after: z.array(z.string()).default([]),
  args: z.record(z.string(), argumentSchema).default({}),
  resources: resourcesSchema.optional(),
  /** Secrets the cluster pulls this step's image with, besides the pipeline's own. */
  imagePullSecrets: pullSecrets.optional(),
});

const volumeSchema = z.strictObject({
  name: z.string().regex(DNS_STYLE_NAME, 'must be a DNS-style name'),
  size: z.string().regex(/^\d+(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'must be a size such as 10Gi'),
  accessMode: z.enum(['ReadWriteOnce', 'ReadWriteMany', 'ReadOnlyMany', 'ReadWriteOncePod']).default('ReadWriteOnce'),
  storageClass: z.string().optional(),
  mountPath: z.string().regex(/^\//, 'must be an absolute path'),
});

export const pipelineFileSchema = z.strictObject({
  name: z.string().regex(DNS_STYLE_NAME, 'must be lowercase letters, digits and dashes (it names dist/<name>.yaml)'),
  description: z.string().optional(),
  parameters: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be letters, digits and underscores, not starting with a digit'), parameterSchema)
    .default({}),
  volume: volumeSchema.optional(),
  /** Secrets the cluster pulls every step's image with (private registries). */
  imagePullSecrets: pullSecrets.optional(),
  steps: z.record(stepName, stepSchema).refine((s) => Object.keys(s).length > 0, 'needs at least one step'),
});

export type PipelineFile = z.infer<typeof pipelineFileSchema>;
export type PipelineParameter = z.infer<typeof parameterSchema>;
export type StepArgument = z.infer<typeof argumentSchema>;
export type StepResources = z.infer<typeof resourcesSchema>;
