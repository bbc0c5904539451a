// kubectl's argument split for taint and label: resources first (`nodes N1 N2` or `node/N1`),
// then the changes; a resource after a change is an error (cmdutil.GetResourcesAndPairs).

import { CliError } from '../errors.js';

const NODE_TYPES = ['node', 'nodes', 'no'];

export interface SplitArgs {
  readonly resources: string[];
  readonly changes: string[];
}

/** `isChange` tells a change argument from a resource one; `pairType` names it in the error. */
export function splitResourcesAndChanges(args: readonly string[], isChange: (arg: string) => boolean, pairType: string): SplitArgs {
  const resources: string[] = [];
  const changes: string[] = [];
  for (const arg of args) {
    if (isChange(arg)) changes.push(arg);
    else if (changes.length > 0) throw new CliError(`error: all resources must be specified before ${pairType} changes: ${arg}`);
    else resources.push(arg);
  }
  return { resources, changes };
}

/** `nodes N1 N2`, `node/N1 node/N2` → node names; other kinds are refused as kubectl taint does. */
export function nodeNames(resources: readonly string[]): string[] {
  if (resources.length === 0) {
    throw new CliError('error: one or more resources must be specified as <resource> <name> or <resource>/<name>');
  }
  const first = resources[0] ?? '';
  if (first.includes('/')) {
    return resources.map((r) => {
      const slash = r.indexOf('/');
      const type = slash < 0 ? r : r.slice(0, slash);
      if (slash < 0 || !NODE_TYPES.includes(type.toLowerCase())) throw invalidType(type);
      return r.slice(slash + 1);
    });
  }
  if (!NODE_TYPES.includes(first.toLowerCase())) throw invalidType(first);
  const names = resources.slice(1);
  if (names.length === 0) throw new CliError(`error: at least one resource name must be specified since 'all' parameter is not set`);
  return names;
}

function invalidType(type: string): CliError {
  return new CliError(`error: invalid resource type ${type}, only ["node" "nodes"] are supported`);
}
