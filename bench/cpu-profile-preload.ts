// Preloaded into a service (NODE_OPTIONS=--import=<this file>, since --cpu-prof is not allowed in
// NODE_OPTIONS): profiles the whole process with the inspector and writes
// $CPU_PROFILE_DIR/<service>-<pid>.cpuprofile when it exits (the in-thread inspector answers
// synchronously, so the 'exit' handler can still collect the profile).

import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
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
