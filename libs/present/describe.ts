// `dsctl describe ds NAME`: a port of kubectl's DaemonSetDescriber (k8s.io/kubectl/pkg/describe:
// describeDaemonSet, DescribePodTemplate, describeContainers, DescribeEvents), written through the
// same tabwriter settings so the text lines up as kubectl's does.

import type { Container, IntOrString, Labels, PodTemplateSpec, Probe, Toleration } from '../model/types.js';
import type { DsRecord, EventRecord, State } from '../core/state.js';
import { formatRequirement, selectorRequirements } from '../model/selectors.js';
import { daemonSetObject } from '../core/k8s-objects.js';
import { translateTimestampSince } from './age.js';
import { byCodeUnit, formatLabels } from './format-labels.js';
import { DESCRIBE_TABWRITER, tabwrite } from './table.js';

/** The Source.Component of the DaemonSet controller's events. */
export const EVENT_SOURCE = 'daemonset-controller';

/** kubectl leaves this annotation out of describe. */
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
const MAX_ANNOTATION_LEN = 140;

/** describe's PrefixWriter over a tabwriter: levels indent by 2 spaces; flush() aligns what came before on its own. */
interface PrefixWriter {
  write(level: number, text: string): void;
  flush(): void;
  done(): string;
}

function prefixWriter(): PrefixWriter {
  const flushed: string[] = [];
  let pending = '';
  const flush = (): void => {
    flushed.push(tabwrite(pending, DESCRIBE_TABWRITER));
    pending = '';
  };
  return {
    write(level, text) {
      pending += '  '.repeat(level) + text;
    },
    flush,
    done() {
      flush();
      return flushed.join('');
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

function sortedKeys(map: Labels | Record<string, unknown>): string[] {
  return Object.keys(map).sort(byCodeUnit);
}

/** printLabelsMultiline: `Title:\tk=v`, further labels on their own lines under the first. */
function printLabelsMultiline(w: PrefixWriter, title: string, labels: Labels | undefined): void {
  w.write(0, `${title}:\t`);
  const keys = sortedKeys(labels ?? {});
  if (keys.length === 0) {
    w.write(0, '<none>\n');
    return;
  }
  keys.forEach((key, i) => {
    if (i !== 0) w.write(0, '\t');
    w.write(0, `${key}=${labels?.[key] ?? ''}\n`);
  });
}

function shorten(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/** printAnnotationsMultiline: `key: value`; long or multi-line values go below their key. */
function printAnnotationsMultiline(w: PrefixWriter, title: string, annotations: Labels | undefined): void {
  w.write(0, `${title}:\t`);
  const keys = sortedKeys(annotations ?? {}).filter((k) => k !== LAST_APPLIED_ANNOTATION);
  if (keys.length === 0) {
    w.write(0, '<none>\n');
    return;
  }
  keys.forEach((key, i) => {
    if (i !== 0) w.write(0, '\t');
    const value = (annotations?.[key] ?? '').replace(/\n$/, '');
    if (value.length + key.length + 2 > MAX_ANNOTATION_LEN || value.includes('\n')) {
      w.write(0, `${key}:\n`);
      for (const line of value.split('\n')) w.write(0, `\t  ${shorten(line, MAX_ANNOTATION_LEN - 2)}\n`);
    } else {
      w.write(0, `${key}: ${value}\n`);
    }
  });
}

/** printPodTolerationsMultiline: `key=value:Effect op=Exists for 300s`, sorted by key. */
function printTolerationsMultiline(w: PrefixWriter, title: string, tolerations: readonly Toleration[] | undefined): void {
  w.write(0, `${title}:\t`);
  const list = [...(tolerations ?? [])].sort((a, b) => byCodeUnit(a.key ?? '', b.key ?? ''));
  if (list.length === 0) {
    w.write(0, '<none>\n');
    return;
  }
  list.forEach((t, i) => {
    if (i !== 0) w.write(0, '\t');
    let text = t.key ?? '';
    if (t.value) text += `=${t.value}`;
    if (t.effect) text += `:${t.effect}`;
    if (t.operator === 'Exists' && !t.value) text += t.key || t.effect ? ' op=Exists' : 'op=Exists';
    if (t.tolerationSeconds !== undefined) text += ` for ${t.tolerationSeconds}s`;
    w.write(0, `${text}\n`);
  });
}

function intOrString(v: IntOrString | undefined): string {
  return v === undefined ? '' : String(v);
}

/** net.JoinHostPort. */
function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** DescribeProbe: `exec [cat /tmp/healthy] delay=0s timeout=1s period=10s #success=1 #failure=3`. */
export function describeProbe(p: Probe): string {
  const attrs =
    `delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s ` +
    `#success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
  if (p.exec) return `exec [${(p.exec.command ?? []).join(' ')}] ${attrs}`;
  if (p.httpGet) {
    const g = p.httpGet;
    const port = intOrString(g.port);
    const host = port.length > 0 ? joinHostPort(g.host ?? '', port) : (g.host ?? '');
    const path = g.path ?? '';
    const url = `${(g.scheme ?? 'HTTP').toLowerCase()}://${host}${path !== '' && !path.startsWith('/') ? '/' : ''}${path}`;
    return `http-get ${url} ${attrs}`;
  }
  if (p.tcpSocket) return `tcp-socket ${p.tcpSocket.host ?? ''}:${intOrString(p.tcpSocket.port)} ${attrs}`;
  return `unknown ${attrs}`;
}

function describeResources(resources: unknown, w: PrefixWriter, level: number): void {
  if (!isRecord(resources)) return;
  for (const [field, title] of [
    ['limits', 'Limits'],
    ['requests', 'Requests'],
  ] as const) {
    const list = resources[field];
    if (!isRecord(list) || Object.keys(list).length === 0) continue;
    w.write(level, `${title}:\n`);
    for (const name of sortedKeys(list)) w.write(level + 1, `${name}:\t${str(list[name])}\n`);
  }
}

function describeEnv(c: Container, w: PrefixWriter): void {
  const env = c.env ?? [];
  w.write(2, `Environment:${env.length === 0 ? '\t<none>' : ''}\n`);
  for (const e of env) {
    const from = e.valueFrom;
    if (!isRecord(from)) {
      (e.value ?? '').split('\n').forEach((line, i) => w.write(3, i === 0 ? `${e.name}:\t${line}\n` : `\t${line}\n`));
      continue;
    }
    const { fieldRef, resourceFieldRef, secretKeyRef, configMapKeyRef } = from;
    if (isRecord(fieldRef)) {
      w.write(3, `${e.name}:\t (${str(fieldRef['apiVersion'])}:${str(fieldRef['fieldPath'])})\n`);
    } else if (isRecord(resourceFieldRef)) {
      w.write(3, `${e.name}:\t (${str(resourceFieldRef['resource'])})\n`);
    } else if (isRecord(secretKeyRef)) {
      w.write(
        3,
        `${e.name}:\t<set to the key '${str(secretKeyRef['key'])}' in secret '${str(secretKeyRef['name'])}'>\tOptional: ${secretKeyRef['optional'] === true}\n`,
      );
    } else if (isRecord(configMapKeyRef)) {
      w.write(
        3,
        `${e.name}:\t<set to the key '${str(configMapKeyRef['key'])}' of config map '${str(configMapKeyRef['name'])}'>\tOptional: ${configMapKeyRef['optional'] === true}\n`,
      );
    }
  }
}

function describeMounts(c: Container, w: PrefixWriter): void {
  const mounts = (c.volumeMounts ?? []).filter(isRecord);
  w.write(2, `Mounts:${mounts.length === 0 ? '\t<none>' : ''}\n`);
  const sorted = [...mounts].sort((a, b) => byCodeUnit(str(a['mountPath']), str(b['mountPath'])));
  for (const m of sorted) {
    const flags = [m['readOnly'] === true ? 'ro' : 'rw'];
    const subPath = str(m['subPath']);
    if (subPath.length > 0) flags.push(`path=${JSON.stringify(subPath)}`);
    w.write(3, `${str(m['mountPath'])} from ${str(m['name'])} (${flags.join(',')})\n`);
  }
}

function describeContainers(label: string, containers: readonly Container[], w: PrefixWriter, space: string): void {
  w.write(0, `${space}${label}:${containers.length === 0 ? ' <none>' : ''}\n`);
  const nameIndent = space.length > 0 ? ' ' : '';
  for (const c of containers) {
    w.write(1, `${nameIndent}${c.name}:\n`);
    w.write(2, `Image:\t${c.image}\n`);
    const ports = c.ports ?? [];
    const portText = ports.map((p) => `${p.containerPort}/${p.protocol ?? ''}`).join(', ');
    w.write(2, portText.includes(',') ? `Ports:\t${portText}\n` : `Port:\t${portText || '<none>'}\n`);
    const hostPortText = ports.map((p) => `${p.hostPort ?? 0}/${p.protocol ?? ''}`).join(', ');
    w.write(2, hostPortText.includes(',') ? `Host Ports:\t${hostPortText}\n` : `Host Port:\t${hostPortText || '<none>'}\n`);
    if (c.command && c.command.length > 0) {
      w.write(2, 'Command:\n');
      for (const part of c.command) for (const line of part.split('\n')) w.write(3, `${line}\n`);
    }
    if (c.args && c.args.length > 0) {
      w.write(2, 'Args:\n');
      for (const part of c.args) for (const line of part.split('\n')) w.write(3, `${line}\n`);
    }
    describeResources(c.resources, w, 2);
    if (c.livenessProbe) w.write(2, `Liveness:\t${describeProbe(c.livenessProbe)}\n`);
    if (c.readinessProbe) w.write(2, `Readiness:\t${describeProbe(c.readinessProbe)}\n`);
    describeEnv(c, w);
    describeMounts(c, w);
  }
}

function describeVolumes(volumes: readonly unknown[] | undefined, w: PrefixWriter, space: string): void {
  const list = (volumes ?? []).filter(isRecord);
  if (list.length === 0) {
    w.write(0, `${space}Volumes:\t<none>\n`);
    return;
  }
  w.write(0, `${space}Volumes:\n`);
  const nameIndent = space.length > 0 ? ' ' : '';
  for (const v of list) {
    w.write(1, `${nameIndent}${str(v['name'])}:\n`);
    const { hostPath, emptyDir, configMap, secret } = v;
    if (isRecord(hostPath)) {
      const type = hostPath['type'] === undefined ? '<none>' : str(hostPath['type']);
      w.write(2, `Type:\tHostPath (bare host directory volume)\n    Path:\t${str(hostPath['path'])}\n    HostPathType:\t${type}\n`);
    } else if (isRecord(emptyDir)) {
      const size = str(emptyDir['sizeLimit']);
      w.write(
        2,
        `Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t${str(emptyDir['medium'])}\n    SizeLimit:\t${size === '' || size === '0' ? '<unset>' : size}\n`,
      );
    } else if (isRecord(configMap)) {
      w.write(
        2,
        `Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t${str(configMap['name'])}\n    Optional:\t${configMap['optional'] === true}\n`,
      );
    } else if (isRecord(secret)) {
      w.write(
        2,
        `Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t${str(secret['secretName'])}\n    Optional:\t${secret['optional'] === true}\n`,
      );
    } else {
      w.write(1, '<unknown>\n');
    }
  }
}

/** DescribePodTemplate. */
function describePodTemplate(template: PodTemplateSpec, w: PrefixWriter): void {
  const spec = template.spec;
  w.write(0, 'Pod Template:\n');
  printLabelsMultiline(w, '  Labels', template.metadata?.labels);
  const annotations = template.metadata?.annotations;
  if (annotations && Object.keys(annotations).length > 0) printAnnotationsMultiline(w, '  Annotations', annotations);
  if (spec.serviceAccountName) w.write(1, `Service Account:\t${spec.serviceAccountName}\n`);
  if (spec.initContainers && spec.initContainers.length > 0) describeContainers('Init Containers', spec.initContainers, w, '  ');
  describeContainers('Containers', spec.containers, w, '  ');
  describeVolumes(spec.volumes, w, '  ');
  if (spec.priorityClassName) w.write(1, `Priority Class Name:\t${spec.priorityClassName}\n`);
  printLabelsMultiline(w, '  Node-Selectors', spec.nodeSelector);
  printTolerationsMultiline(w, '  Tolerations', spec.tolerations);
}

/** DescribeEvents, oldest first. Each record is one event (the log keeps no counts to merge). */
function describeEvents(events: readonly EventRecord[], w: PrefixWriter, nowMs: number): void {
  if (events.length === 0) {
    w.write(0, 'Events:\t<none>\n');
    return;
  }
  w.flush();
  const sorted = [...events].sort((a, b) => a.timeMs - b.timeMs || a.seq - b.seq);
  w.write(0, 'Events:\n  Type\tReason\tAge\tFrom\tMessage\n');
  w.write(1, '----\t------\t----\t----\t-------\n');
  for (const e of sorted) {
    w.write(1, `${e.kind}\t${e.reason}\t${translateTimestampSince(e.timeMs, nowMs)}\t${EVENT_SOURCE}\t${e.message.trim()}\n`);
  }
}

/**
 * kubectl describe ds. `events` are this DaemonSet's events (the caller picks them from the log);
 * the pod counts are over the pods it controls, by phase, as getPodStatusForController counts.
 */
export function describeDaemonSet(ds: DsRecord, state: State, events: readonly EventRecord[], nowMs: number): string {
  const obj = daemonSetObject(ds);
  const st = obj.status;
  const counts = { Running: 0, Pending: 0, Succeeded: 0, Failed: 0 };
  for (const pod of state.pods.values()) {
    if (pod.owner?.uid === ds.uid) counts[pod.phase]++;
  }
  const w = prefixWriter();
  w.write(0, `Name:\t${ds.name}\n`);
  w.write(0, `Namespace:\t${ds.namespace}\n`);
  w.write(0, `Selector:\t${selectorRequirements(ds.spec.selector).map(formatRequirement).join(',')}\n`);
  w.write(0, `Node-Selector:\t${formatLabels(ds.spec.template.spec.nodeSelector)}\n`);
  printLabelsMultiline(w, 'Labels', obj.metadata.labels);
  printAnnotationsMultiline(w, 'Annotations', obj.metadata.annotations);
  w.write(0, `Desired Number of Nodes Scheduled: ${st.desiredNumberScheduled}\n`);
  w.write(0, `Current Number of Nodes Scheduled: ${st.currentNumberScheduled}\n`);
  w.write(0, `Number of Nodes Scheduled with Up-to-date Pods: ${st.updatedNumberScheduled}\n`);
  w.write(0, `Number of Nodes Scheduled with Available Pods: ${st.numberAvailable}\n`);
  w.write(0, `Number of Nodes Misscheduled: ${st.numberMisscheduled}\n`);
  w.write(
    0,
    `Pods Status:\t${counts.Running} Running / ${counts.Pending} Waiting / ${counts.Succeeded} Succeeded / ${counts.Failed} Failed\n`,
  );
  describePodTemplate(ds.spec.template, w);
  describeEvents(events, w, nowMs);
  return w.done();
}
