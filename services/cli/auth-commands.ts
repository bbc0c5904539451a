// dsctl auth: credentials for the bus. `init` writes a folder with the nats-server authorization
// block and one `.creds` file per role and per node; `add-node` and `remove-node` change it when
// the fleet changes (then reload the server); `list` shows who exists. Nothing here prints a seed.

import type { Command } from 'commander';
import { join } from 'node:path';
import { AUTH_CONF, ensureIdentities, initAuthDir, readIdentities, removeNode, type AuthDirChange } from '../../libs/auth/auth-dir.js';
import { ROLE_PURPOSE } from '../../libs/topology/roles.js';
import { CliError } from './errors.js';
import { formatTable } from '../../libs/present/table.js';

function nodesOf(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
}

function report(change: AuthDirChange, next: string): void {
  for (const r of change.added) process.stdout.write(`credentials/${r.name} created (${join(change.dir, r.file)})\n`);
  for (const r of change.kept) process.stdout.write(`credentials/${r.name} unchanged\n`);
  for (const r of change.removed) process.stdout.write(`credentials/${r.name} deleted\n`);
  process.stdout.write(`${next}\n`);
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new CliError(`error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const RELOAD = (dir: string): string =>
  `Wrote ${dir}/${AUTH_CONF}. Include it in the nats-server config (include "${AUTH_CONF}") and reload the server (nats-server --signal reload, or SIGHUP).`;

export function registerAuthCommands(program: Command): void {
  const auth = program.command('auth').description('Credentials for the bus: one identity per role and per node');

  auth
    .command('init')
    .description('Create a credentials folder: the server authorization block, one .creds file per role, one per node')
    .argument('<dir>', 'the folder to write (created; existing keys are kept)')
    .option('--nodes <names>', 'comma-separated node names to create agent credentials for', '')
    .action((dir: string, flags: { nodes: string }) => {
      const change = guard(() => initAuthDir(dir, nodesOf(flags.nodes)));
      report(change, RELOAD(dir));
    });

  auth
    .command('add-node')
    .description("Create a node's agent credentials (DIR/nodes/NAME.creds) and add it to the server authorization block")
    .argument('<names...>', 'node names')
    .requiredOption('--dir <dir>', 'the credentials folder')
    .action((names: string[], flags: { dir: string }) => {
      const change = guard(() => ensureIdentities(flags.dir, names.map((node) => ({ role: 'agent' as const, node }))));
      report(change, RELOAD(flags.dir));
    });

  auth
    .command('remove-node')
    .description("Delete a node's credentials and remove it from the server authorization block")
    .argument('<name>', 'node name')
    .requiredOption('--dir <dir>', 'the credentials folder')
    .action((name: string, flags: { dir: string }) => {
      const change = guard(() => removeNode(flags.dir, name));
      report(change, RELOAD(flags.dir));
    });

  auth
    .command('list')
    .description('The identities in a credentials folder (names, roles, public keys; never seeds)')
    .requiredOption('--dir <dir>', 'the credentials folder')
    .action((flags: { dir: string }) => {
      const records = guard(() => readIdentities(flags.dir));
      if (records.length === 0) throw new CliError(`error: no identities in ${flags.dir} (create them with dsctl auth init ${flags.dir})`);
      const rows = records.map((r) => [r.name, r.identity.role, r.file, r.nkey]);
      const table = formatTable(['NAME', 'ROLE', 'CREDENTIALS', 'PUBLIC KEY'], rows);
      process.stdout.write(table.endsWith('\n') ? table : `${table}\n`);
      process.stdout.write('\nRoles:\n');
      for (const [role, purpose] of Object.entries(ROLE_PURPOSE)) process.stdout.write(`  ${role.padEnd(10)} ${purpose}\n`);
    });
}
