/** OCI source labels from git, when the project is a git checkout; empty otherwise. */
import { nodeChildProcess } from '../node-modules.js';

export async function gitSourceLabels(root: string): Promise<Record<string, string>> {
  // node:child_process, not execa: three short commands do not pay for loading a library.
  const git = (...args: string[]) =>
    new Promise<string | undefined>((resolve) => {
      nodeChildProcess().execFile('git', args, { cwd: root, timeout: 10_000 }, (error, stdout) => resolve(error ? undefined : stdout.trim() || undefined));
    });
  const [revision, remote, changed] = await Promise.all([
    git('rev-parse', 'HEAD'),
    git('config', '--get', 'remote.origin.url'),
    // Tracked files changed since HEAD, as `git describe --dirty` counts them (untracked files do not).
    git('status', '--porcelain', '--untracked-files=no'),
  ]);
  const labels: Record<string, string> = {};
  // An image built from uncommitted changes is not HEAD's: say so, as `git describe --dirty` does.
  if (revision) labels['org.opencontainers.image.revision'] = changed ? `${revision}-dirty` : revision;
  // Strip credentials a remote URL may carry (https://user:token@host/...).
  if (remote) labels['org.opencontainers.image.source'] = remote.replace(/\/\/[^@/]+@/, '//');
  return labels;
}
