/** OCI source labels from git, when the project is a git checkout; empty otherwise. */
export async function gitSourceLabels(root: string): Promise<Record<string, string>> {
  // Loaded here: only a run that builds asks for labels.
  const { execa } = await import('execa');
  const git = async (...args: string[]) => {
    try {
      const r = await execa('git', args, { cwd: root, timeout: 10_000 });
      return r.stdout.trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const [revision, remote] = await Promise.all([git('rev-parse', 'HEAD'), git('config', '--get', 'remote.origin.url')]);
  const labels: Record<string, string> = {};
  if (revision) labels['org.opencontainers.image.revision'] = revision;
  // Strip credentials a remote URL may carry (https://user:token@host/...).
  if (remote) labels['org.opencontainers.image.source'] = remote.replace(/\/\/[^@/]+@/, '//');
  return labels;
}
