// A container's environment and argv as the process driver runs them: a minimal base (PATH,
// HOSTNAME) — never the agent's own environment — plus `env[]`, with `$(VAR)` references in
// values, command and args expanded as the kubelet does (expansion.MappingFuncFor):
// `$(NAME)` becomes NAME's value when defined, `$$` escapes a `$`, anything else stays as is.

import type { Container } from '../../../libs/model/types.js';
import type { RuntimePod } from '../../../libs/agent-runtime/driver.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function expandReferences(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$';
    const value = vars[name];
    return value === undefined ? match : value;
  });
}

/** A `valueFrom.fieldRef` the driver can answer from the pod it was given. */
function fieldRefValue(valueFrom: unknown, pod: RuntimePod): string | undefined {
  if (typeof valueFrom !== 'object' || valueFrom === null) return undefined;
  const fieldRef = (valueFrom as { fieldRef?: unknown }).fieldRef;
  if (typeof fieldRef !== 'object' || fieldRef === null) return undefined;
  const path = (fieldRef as { fieldPath?: unknown }).fieldPath;
  switch (path) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace;
    case 'metadata.uid':
      return pod.uid;
    case 'spec.nodeName':
      return pod.spec.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName;
    default:
      return undefined;
  }
}

export function containerEnv(pod: RuntimePod, container: Container): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? DEFAULT_PATH, HOSTNAME: pod.name };
  for (const variable of container.env ?? []) {
    const value = variable.value !== undefined ? expandReferences(variable.value, env) : fieldRefValue(variable.valueFrom, pod);
    env[variable.name] = value ?? '';
  }
  return env;
}

/** command ++ args, expanded; undefined when the container has no command to run. */
export function containerArgv(container: Container, env: Readonly<Record<string, string>>): readonly string[] | undefined {
  const command = container.command ?? [];
  if (command.length === 0) return undefined;
  return [...command, ...(container.args ?? [])].map((part) => expandReferences(part, env));
}
