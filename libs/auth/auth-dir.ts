// The credentials folder `dsctl auth init` writes and every process reads from:
//
//   DIR/auth.conf            the nats-server `authorization` block (include it in the server config)
//   DIR/identities.json      who exists: name, role, node, public key (nothing secret)
//   DIR/<role>.creds         admin, apiserver, controller, fleet, viewer
//   DIR/nodes/<node>.creds   one per node, for its agent
//   DIR/apiserver.token      the bearer token the Kubernetes API facade asks kubectl for
//
// Secrets are written with mode 0600 in a 0700 folder. Existing keys are never replaced: init and
// add-node only add what is missing, so running them again is safe.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES, type Identity, type Role } from '../topology/roles.js';
import { renderAuthorization, type AuthorizedUser } from '../topology/server-authorization.js';
import { createUserKey, formatCreds, publicKeyOf } from './credentials.js';

export const AUTH_CONF = 'auth.conf';
export const IDENTITIES_FILE = 'identities.json';
export const APISERVER_TOKEN_FILE = 'apiserver.token';
/** The identities every folder has; nodes are added by name. */
export const SERVICE_ROLES: readonly Exclude<Role, 'agent'>[] = ROLES.filter((r): r is Exclude<Role, 'agent'> => r !== 'agent');

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface IdentityRecord extends AuthorizedUser {
  /** The credentials file, relative to the folder. */
  readonly file: string;
}

export interface AuthDirChange {
  readonly dir: string;
  readonly added: readonly IdentityRecord[];
  readonly kept: readonly IdentityRecord[];
  readonly removed: readonly IdentityRecord[];
}

export class AuthDirError extends Error {
  override readonly name = 'AuthDirError';
}

export function checkNodeName(node: string): void {
  if (node.length > 253 || !NODE_NAME.test(node)) {
    throw new AuthDirError(`node name ${JSON.stringify(node)} must be a DNS-1123 subdomain (lower case letters, digits, '-' and '.')`);
  }
}

function recordFile(id: Identity): string {
  return id.role === 'agent' ? join('nodes', `${id.node!}.creds`) : `${id.role}.creds`;
}

function recordName(id: Identity): string {
  return id.role === 'agent' ? id.node! : id.role;
}

/** The credentials file of an identity in `dir`. */
export function credsPath(dir: string, id: Identity): string {
  return join(dir, recordFile(id));
}

export function readIdentities(dir: string): IdentityRecord[] {
  const path = join(dir, IDENTITIES_FILE);
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new AuthDirError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const list = (parsed as { identities?: unknown }).identities;
  if (!Array.isArray(list)) throw new AuthDirError(`${path}: expected {"identities": [...]}`);
  return list.map((raw: unknown, i: number) => {
    const r = raw as Partial<IdentityRecord>;
    if (typeof r.name !== 'string' || typeof r.nkey !== 'string' || typeof r.file !== 'string' || !r.identity || !ROLES.includes(r.identity.role)) {
      throw new AuthDirError(`${path}: identities[${i}] is malformed`);
    }
    return { name: r.name, nkey: r.nkey, file: r.file, identity: r.identity.node !== undefined ? { role: r.identity.role, node: r.identity.node } : { role: r.identity.role } };
  });
}

function writeSecret(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

function writeFolder(dir: string, records: readonly IdentityRecord[]): void {
  const sorted = [...records].sort((a, b) => roleOrder(a) - roleOrder(b) || a.name.localeCompare(b.name));
  writeFileSync(join(dir, IDENTITIES_FILE), `${JSON.stringify({ identities: sorted }, null, 2)}\n`, { mode: 0o644 });
  writeFileSync(join(dir, AUTH_CONF), renderAuthorization(sorted), { mode: 0o644 });
}

function roleOrder(r: IdentityRecord): number {
  return ROLES.indexOf(r.identity.role);
}

/**
 * Adds every identity of `ids` the folder lacks (a key, its `.creds` file, its place in
 * auth.conf); keeps the rest as they are. Also writes the API facade's token once.
 */
export function ensureIdentities(dir: string, ids: readonly Identity[]): AuthDirChange {
  for (const id of ids) if (id.role === 'agent') checkNodeName(id.node ?? '');
  mkdirSync(join(dir, 'nodes'), { recursive: true, mode: 0o700 });
  const records = readIdentities(dir);
  const added: IdentityRecord[] = [];
  const kept: IdentityRecord[] = [];
  for (const id of ids) {
    const file = recordFile(id);
    const existing = records.find((r) => r.file === file);
    if (existing && existsSync(join(dir, file))) {
      // The key on disk is the truth: a hand-replaced creds file re-derives its public key.
      const nkey = publicKeyOf(readFileSync(join(dir, file), 'utf8'), join(dir, file));
      const rec = nkey === existing.nkey ? existing : { ...existing, nkey };
      records.splice(records.indexOf(existing), 1, rec);
      kept.push(rec);
      continue;
    }
    const key = createUserKey();
    const rec: IdentityRecord = { name: recordName(id), nkey: key.publicKey, identity: id, file };
    writeSecret(join(dir, file), formatCreds(key, `${rec.name} (${id.role}${id.role === 'agent' ? ` of node ${id.node!}` : ''})`));
    if (existing) records.splice(records.indexOf(existing), 1, rec);
    else records.push(rec);
    added.push(rec);
  }
  const tokenPath = join(dir, APISERVER_TOKEN_FILE);
  if (!existsSync(tokenPath)) writeSecret(tokenPath, `${randomBytes(32).toString('base64url')}\n`);
  writeFolder(dir, records);
  return { dir, added, kept, removed: [] };
}

/** `dsctl auth init`: the service identities plus one per node. */
export function initAuthDir(dir: string, nodes: readonly string[]): AuthDirChange {
  return ensureIdentities(dir, [...SERVICE_ROLES.map((role) => ({ role })), ...nodes.map((node) => ({ role: 'agent' as const, node }))]);
}

/** `dsctl auth remove-node`: the node's key leaves auth.conf and its file is deleted. */
export function removeNode(dir: string, node: string): AuthDirChange {
  const records = readIdentities(dir);
  const gone = records.filter((r) => r.identity.role === 'agent' && r.identity.node === node);
  if (gone.length === 0) throw new AuthDirError(`node ${JSON.stringify(node)} has no credentials in ${dir}`);
  for (const r of gone) rmSync(join(dir, r.file), { force: true });
  writeFolder(dir, records.filter((r) => !gone.includes(r)));
  return { dir, added: [], kept: records.filter((r) => !gone.includes(r)), removed: gone };
}

/** The API facade's bearer token, trimmed; undefined when the folder has none. */
export function readApiserverToken(dir: string): string | undefined {
  const path = join(dir, APISERVER_TOKEN_FILE);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}
