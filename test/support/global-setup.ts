import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Point the tests at the local services (scripts/services.sh) and make sure lib/ is compiled,
 * since some tests run the real bin/helmet-build.js (the bundle, as users do).
 */
export default function setup(): void {
  const root = join(import.meta.dirname, '..', '..');
  if (!process.env.DOCKER_HOST || !process.env.HELMET_TEST_REGISTRY) {
    const env = execFileSync('bash', [join(root, 'scripts', 'services.sh'), 'env'], { encoding: 'utf8' });
    for (const m of env.matchAll(/^export (\w+)=(.*)$/gm)) process.env[m[1]!] ??= m[2]!;
  }
  if (!existsSync(join(root, 'lib', 'bundle', 'main.js'))) {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
}
