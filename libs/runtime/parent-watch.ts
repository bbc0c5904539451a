// A supervised process notices that its supervisor is gone: `npm start` runs every service in a
// process group of its own (so a terminal's Ctrl-C reaches only the launcher), which also means
// that a launcher killed with -9 would leave them running for ever. The launcher passes its pid in
// SUPERVISOR_PID; once this process's parent is no longer that pid (it was re-parented), the
// service stops as on SIGTERM.

/** Polls the parent pid; calls `gone` once (and stops) when it is no longer `supervisorPid`. */
export function watchSupervisor(supervisorPid: number, gone: () => void, everyMs = 1000): () => void {
  const timer = setInterval(() => {
    if (process.ppid === supervisorPid) return;
    clearInterval(timer);
    gone();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** SUPERVISOR_PID from the environment, if it is a pid. */
export function supervisorPidFrom(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const raw = env['SUPERVISOR_PID'];
  if (raw === undefined || !/^[1-9]\d*$/.test(raw)) return undefined;
  return Number(raw);
}
