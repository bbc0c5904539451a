// Preloaded into a service by the bench (NODE_OPTIONS=--import=<this file>, since --cpu-prof is
// not allowed in NODE_OPTIONS):
// - CPU_PROFILE_DIR: profiles the whole process with the inspector and writes
//   <dir>/<service>-<pid>.cpuprofile when it exits (the in-thread inspector answers
//   synchronously, so the 'exit' handler can still collect the profile);
// - MEMORY_REPORT_FILE: writes process.memoryUsage() there every second (heap vs RSS).

import { Session } from 'node:inspector';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const dir = process.env['CPU_PROFILE_DIR'];
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // 1 ms sampling: the default, as node --cpu-prof uses.
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const service = basename(dirname(process.argv[1] ?? 'node'));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${service}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}

const memoryFile = process.env['MEMORY_REPORT_FILE'];
if (memoryFile) {
  const write = (): void => {
    const tmp = `${memoryFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ atMs: Date.now(), ...process.memoryUsage() }));
    renameSync(tmp, memoryFile);
  };
  setInterval(write, 1000).unref();
}
