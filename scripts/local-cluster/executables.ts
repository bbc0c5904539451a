// The programs the launcher starts: Node for the services, nats-server for the embedded bus.
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Executables {
  /** Node itself (process.execPath). */
  readonly node: string;
  readonly natsServer: string | undefined;
  /** The dist/ folder holding services/<svc>/main.js. */
  readonly distDir: string;
}

/** The first executable nats-server on `path` (PATH), then in /usr/sbin, /usr/bin, /usr/local/bin. */
export function findNatsServer(path: string | undefined): string | undefined {
  const dirs = [...(path ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs.filter((entry) => entry !== '')) {
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here: look in the next folder
    }
  }
  return undefined;
}

export function missingNatsServerHelp(): string {
  return [
    'nats-server was not found (looked on PATH and in /usr/sbin, /usr/bin, /usr/local/bin).',
    'Get it in one of these ways:',
    '  sudo apt-get install nats-server      (Debian/Ubuntu)',
    '  bash scripts/setup.sh                 (installs it with apt-get where it can)',
    '  download a release archive from the NATS releases (github.com/nats-io/nats-server/releases)',
    '  and put the nats-server binary on your PATH',
    'Or point at a running server: NATS_URL=nats://host:4222 npm start',
  ].join('\n');
}
