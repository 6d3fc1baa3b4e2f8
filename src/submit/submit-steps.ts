/**
 * The requests of `submit`, one decision each: the pipeline and its version by name (a version named
 * from the content is reused, never changed), the experiment by name. Each create that
 * meets another client's create of the same name (409) takes theirs.
 */
import { KfpApiError, UsageError } from '../errors.js';
import type { EventListener } from '../events.js';
import type { Pipeline } from '../project/model.js';
import type { CreatedPipeline, KfpApiClient, UploadFile, VersionRef } from './kfp-api.js';

export interface UploadedVersion {
  pipelineId: string;
  version: VersionRef;
  action: 'pipeline-created' | 'version-added' | 'version-reused';
}

/** The pipeline by name (created with this upload when missing), then the version by name (uploaded when missing). */
export async function ensurePipelineVersion(
  api: KfpApiClient,
  pipeline: Pipeline,
  upload: UploadFile,
  versionName: string,
  digest: string,
): Promise<UploadedVersion> {
  const description = `sha256:${digest} of ${upload.name}`;
  const existing = await api.findPipeline(pipeline.name);
  if (existing) {
    const found = await api.findVersion(existing.id, versionName);
    if (found) {
      refuseOtherContent(found, pipeline, versionName, digest);
      return { pipelineId: existing.id, version: found, action: 'version-reused' };
    }
    return { pipelineId: existing.id, version: await uploadVersion(api, existing.id, versionName, description, upload), action: 'version-added' };
  }
  const made = await orFoundAfterConflict(
    () => api.createPipeline(pipeline.name, pipeline.description, upload),
    async (): Promise<CreatedPipeline | undefined> => {
      const found = await api.findPipeline(pipeline.name);
      return found && { pipeline: found };
    },
  );
  // KFP 1.x named the first version after the pipeline: it is the one asked for when the names agree.
  const version = made.firstVersion?.name === versionName ? made.firstVersion : await uploadVersion(api, made.pipeline.id, versionName, description, upload);
  return { pipelineId: made.pipeline.id, version, action: 'pipeline-created' };
}

function uploadVersion(api: KfpApiClient, pipelineId: string, versionName: string, description: string, upload: UploadFile): Promise<VersionRef> {
  return orFoundAfterConflict(
    () => api.uploadVersion(pipelineId, versionName, description, upload),
    () => api.findVersion(pipelineId, versionName),
  );
}

/** A KFP version never changes: one of this name that holds other content is refused. */
function refuseOtherContent(version: VersionRef, pipeline: Pipeline, versionName: string, digest: string): void {
  const held = /sha256:([0-9a-f]{64})/.exec(version.description ?? '')?.[1];
  if (!held || held === digest) return;
  throw new UsageError(
    `version ${versionName} of the pipeline ${pipeline.name} holds other content (sha256:${held.slice(0, 12)}…, this spec is sha256:${digest.slice(0, 12)}…)`,
    { hint: 'A KFP version never changes: give another --version, or leave it out to name the version from the content.' },
  );
}

/** The experiment by name, created when missing; an archived one is refused (KFP starts no runs in it). */
export async function ensureExperiment(api: KfpApiClient, name: string, namespace: string | undefined, onEvent: EventListener): Promise<{ id: string }> {
  const found = await api.findExperiment(name, namespace);
  if (found?.archived) {
    throw new UsageError(`the experiment ${name} is archived: KFP starts no runs in it`, {
      hint: 'Restore it in the KFP UI (Experiments → Archive), or choose another --experiment.',
    });
  }
  const experiment =
    found ??
    (await orFoundAfterConflict(
      () => api.createExperiment(name, namespace),
      () => api.findExperiment(name, namespace),
    ));
  onEvent({ type: 'submit-experiment', experiment: name, experimentId: experiment.id, created: !found, ...(namespace ? { namespace } : {}) });
  return experiment;
}

/** Create, or when another client created the same name at the same time (409), take theirs. */
async function orFoundAfterConflict<T>(create: () => Promise<T>, find: () => Promise<T | undefined>): Promise<T> {
  try {
    return await create();
  } catch (e) {
    if (e instanceof KfpApiError && e.status === 409) {
      const found = await find();
      if (found) return found;
    }
    throw e;
  }
}
