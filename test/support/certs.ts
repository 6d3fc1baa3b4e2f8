/** Certificates made with openssl for tests: a CA, and certificates it signs. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A CA in `dir`: ca.pem, ca-key.pem. */
export function makeCa(dir: string, subject: string): void {
  mkdirSync(dir, { recursive: true });
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${subject}`, '-keyout', 'ca-key.pem', '-out', 'ca.pem');
}

/** A certificate `<name>.pem` (key `<name>-key.pem`) in `outDir`, signed by the CA in `caDir`, with `ext` extensions. */
export function signed(caDir: string, outDir: string, name: string, subject: string, ext: string): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${name}.ext`), ext);
  openssl(outDir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${subject}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`);
  openssl(
    outDir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    join(caDir, 'ca.pem'),
    '-CAkey',
    join(caDir, 'ca-key.pem'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  );
}
