import { runDoctor } from '../../doctor/doctor.js';
import { ExitCode, worstExitCode } from '../../errors.js';
import { type Io, readLogin, realServices } from '../context.js';

/** `helmet-build doctor`: one line per check; the exit code of the worst failure. */
export async function runDoctorCommand(
  flags: { cwd: string; push?: string; json?: boolean; username?: string; passwordStdin?: boolean },
  io: Io,
): Promise<number> {
  const checks = await runDoctor(realServices(await readLogin(flags, io)), flags);
  if (flags.json) io.out.write(`${JSON.stringify(checks, null, 2)}\n`);
  else {
    for (const c of checks) {
      io.out.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(8)} ${c.detail}\n`);
      for (const line of c.lines ?? []) io.out.write(`     ${''.padEnd(8)} ${line}\n`);
      if (c.hint) io.out.write(`     ${''.padEnd(8)} hint: ${c.hint}\n`);
    }
  }
  return worstExitCode(checks.filter((c) => !c.ok).map((c) => c.exitCode ?? ExitCode.failed));
}
