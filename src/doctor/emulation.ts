/**
 * Which foreign platforms an engine on this machine can build by emulation: those whose QEMU binfmt
 * handler the kernel has enabled (`/proc/sys/fs/binfmt_misc/qemu-*`). An engine elsewhere has another
 * kernel: nothing here says what it emulates.
 */
import { readdirSync, readFileSync } from 'node:fs';

const BINFMT = '/proc/sys/fs/binfmt_misc';

/** QEMU's name for an architecture, and the platform BuildKit builds with it. */
const PLATFORM_OF_HANDLER: Record<string, string> = {
  'qemu-aarch64': 'linux/arm64',
  'qemu-arm': 'linux/arm/v7',
  'qemu-x86_64': 'linux/amd64',
  'qemu-i386': 'linux/386',
  'qemu-riscv64': 'linux/riscv64',
  'qemu-ppc64le': 'linux/ppc64le',
  'qemu-s390x': 'linux/s390x',
  'qemu-mips64el': 'linux/mips64le',
};

/** The platforms whose handlers are enabled here, sorted; empty when binfmt_misc is not mounted. */
export function emulatedPlatforms(dir = BINFMT): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => PLATFORM_OF_HANDLER[n] && /^enabled$/m.test(readFileSafe(`${dir}/${n}`)))
    .map((n) => PLATFORM_OF_HANDLER[n]!)
    .sort();
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
