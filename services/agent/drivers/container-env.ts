// A container's environment and argv as the process driver runs them: a minimal base (PATH,
// HOSTNAME) — never the agent's own environment — plus `env[]`, with `$(VAR)` references in
// values, command and args expanded as the kubelet does (expansion.MappingFuncFor):
// `$(NAME)` becomes NAME's value when defined, `$$` escapes a `$`, anything else stays as is.
// `valueFrom` answers the downward API (downward-api.ts).

import type { Container } from '../../../libs/model/types.js';
import type { RuntimeNode, RuntimePod } from '../../../libs/agent-runtime/driver.js';
import { fieldRefValue, resourceFieldRefValue, type Resolved } from './downward-api.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function expandReferences(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    const value = vars[name];
    return value === undefined ? match : value;
  });
}

export type ContainerEnvResult =
  | { readonly ok: true; readonly env: Record<string, string> }
  | { readonly ok: false; readonly error: string };

/** The value of one `valueFrom` (downward-api.ts); other sources (secrets, config maps) have none here and give "". */
function valueFromValue(valueFrom: unknown, pod: RuntimePod, container: Container, node: RuntimeNode): Resolved {
  if (typeof valueFrom !== 'object' || valueFrom === null) return { ok: true, value: '' };
  const { fieldRef, resourceFieldRef } = valueFrom as { fieldRef?: unknown; resourceFieldRef?: unknown };
  if (fieldRef !== undefined && fieldRef !== null) return fieldRefValue(fieldRef, pod, node);
  if (resourceFieldRef !== undefined && resourceFieldRef !== null) return resourceFieldRefValue(resourceFieldRef, pod, container, node);
  return { ok: true, value: '' };
}

/**
 * The container's environment; an error names the variable whose `valueFrom` cannot be answered,
 * where the kubelet would refuse to create the container (CreateContainerConfigError).
 */
export function containerEnv(pod: RuntimePod, container: Container, node: RuntimeNode): ContainerEnvResult {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? DEFAULT_PATH, HOSTNAME: pod.name };
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = expandReferences(variable.value, env);
      continue;
    }
    const resolved = valueFromValue(variable.valueFrom, pod, container, node);
    if (!resolved.ok) return { ok: false, error: `env ${variable.name}: ${resolved.error}` };
    env[variable.name] = resolved.value;
  }
  return { ok: true, env };
}

/** command ++ args, expanded; undefined when the container has no command to run. */
export function containerArgv(container: Container, env: Readonly<Record<string, string>>): readonly string[] | undefined {
  const command = container.command ?? [];
  if (command.length === 0) return undefined;
  return [...command, ...(container.args ?? [])].map((part) => expandReferences(part, env));
}
