/** `helmet-build verify`: one line per image dist/build.json pins, signed by the key and built from the current inputs or not. */
import { resolve } from 'node:path';
import { ExitCode, NotVerifiedError, UsageError } from '../../errors.js';
import { loadProject } from '../../project/load-project.js';
import { findProjectRoot } from '../../project/project-root.js';
import { loadVerifyingKey } from '../../sign/signing-key.js';
import { verifyImages } from '../../verify/verify-images.js';
import { type Io, readLogin, realServices } from '../context.js';

/**
 * Before `submit` uploads anything: with helmet-build.yaml's `sign: {key}`, every pinned image must
 * pass `verify` (with the .pub beside the key), or the submission is refused (exit 1, nothing sent).
 */
export async function requireVerified(flags: { cwd: string; out: string }, io: Io): Promise<void> {
  const project = loadProject(findProjectRoot(flags.cwd));
  if (!project.signKey) return;
  const key = loadVerifyingKey(project.signKey.replace(/\.key$/, '.pub'));
  const verdicts = await verifyImages(project, resolve(flags.cwd, flags.out), key, realServices().registry);
  const failed = verdicts.filter((v) => !v.ok);
  for (const v of failed) io.err.write(`FAIL ${v.component}: ${v.image}: ${v.detail}\n`);
  if (failed.length) {
    throw new NotVerifiedError(
      `not submitted: ${failed.map((v) => v.component).join(', ')} did not pass verify (helmet-build.yaml signs with ${project.signKey})`,
      {
        hint: 'Build and sign again (all --push), then submit; helmet-build verify says what each image lacks.',
      },
    );
  }
}

export async function runVerifyCommand(
  flags: { cwd: string; key?: string; out?: string; json?: boolean; username?: string; passwordStdin?: boolean },
  io: Io,
): Promise<number> {
  const root = findProjectRoot(flags.cwd);
  const project = loadProject(root);
  // Without --key: the public half cosign generate-key-pair wrote beside the signing key of helmet-build.yaml.
  const keyFile = flags.key ? resolve(flags.cwd, flags.key) : project.signKey?.replace(/\.key$/, '.pub');
  if (!keyFile)
    throw new UsageError('verify needs the public key to check with', {
      hint: 'Give --key cosign.pub, or sign: {key: cosign.key} in helmet-build.yaml (cosign.pub beside it).',
    });
  const key = loadVerifyingKey(keyFile);
  const { registry } = realServices(await readLogin(flags, io));
  const verdicts = await verifyImages(project, resolve(flags.cwd, flags.out ?? 'dist'), key, registry);
  if (flags.json) io.out.write(`${JSON.stringify(verdicts, null, 2)}\n`);
  else {
    if (!verdicts.length) io.out.write('no image pinned by registry digest in build.json: nothing to verify\n');
    for (const v of verdicts) io.out.write(`${v.ok ? 'ok  ' : 'FAIL'} ${v.component.padEnd(12)} ${v.image}: ${v.detail}\n`);
  }
  return verdicts.every((v) => v.ok) ? ExitCode.ok : ExitCode.failed;
}
