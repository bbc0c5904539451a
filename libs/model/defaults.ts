// apps/v1 defaulting of a DaemonSet spec: SetDefaults_DaemonSet (pkg/apis/apps/v1/defaults.go)
// plus the core/v1 pod-spec and container defaults (pkg/apis/core/v1/defaults.go) that
// `kubectl get ds -o yaml` shows in the template. Idempotent: defaulting a defaulted spec gives a
// deep-equal spec.

import type {
  Container,
  ContainerPort,
  DaemonSetSpec,
  DefaultedDaemonSetSpec,
  HTTPGetAction,
  PodSpec,
  PodTemplateSpec,
  Probe,
} from './types.js';

export const DEFAULT_MAX_UNAVAILABLE = 1;
export const DEFAULT_MAX_SURGE = 0;
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;

/** SetDefaults_DaemonSet, with the template's pod spec defaulted too. */
export function defaultDaemonSetSpec(spec: DaemonSetSpec): DefaultedDaemonSetSpec {
  const strategy = spec.updateStrategy;
  const updateStrategy: DefaultedDaemonSetSpec['updateStrategy'] =
    strategy?.type === 'OnDelete'
      ? { type: 'OnDelete' }
      : {
          type: 'RollingUpdate',
          rollingUpdate: {
            maxUnavailable: strategy?.rollingUpdate?.maxUnavailable ?? DEFAULT_MAX_UNAVAILABLE,
            maxSurge: strategy?.rollingUpdate?.maxSurge ?? DEFAULT_MAX_SURGE,
          },
        };
  return {
    ...spec,
    template: defaultPodTemplate(spec.template),
    updateStrategy,
    minReadySeconds: spec.minReadySeconds ?? 0,
    revisionHistoryLimit: spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT,
  };
}

export function defaultPodTemplate(template: PodTemplateSpec): PodTemplateSpec {
  return { ...template, spec: defaultPodSpec(template.spec) };
}

/** SetDefaults_PodSpec and the container defaults. */
export function defaultPodSpec(spec: PodSpec): PodSpec {
  const hostNetwork = spec.hostNetwork === true;
  const out: PodSpec = {
    ...spec,
    containers: spec.containers.map((c) => defaultContainer(c, hostNetwork)),
    ...(spec.initContainers ? { initContainers: spec.initContainers.map((c) => defaultContainer(c, hostNetwork)) } : {}),
    restartPolicy: spec.restartPolicy ?? 'Always',
    dnsPolicy: spec.dnsPolicy ?? 'ClusterFirst',
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
    schedulerName: spec['schedulerName'] ?? 'default-scheduler',
    securityContext: spec['securityContext'] ?? {},
  };
  return out;
}

/** SetDefaults_Container (imagePullPolicy from the tag), ports, probes; `resources: {}` as kubectl shows it. */
export function defaultContainer(container: Container, hostNetwork: boolean): Container {
  const c: DefaultableContainer = container;
  const out: DefaultableContainer = {
    ...c,
    imagePullPolicy: c.imagePullPolicy ?? defaultPullPolicy(c.image),
    terminationMessagePath: c.terminationMessagePath ?? '/dev/termination-log',
    terminationMessagePolicy: c.terminationMessagePolicy ?? 'File',
    resources: c.resources ?? {},
    ...(c.ports ? { ports: c.ports.map((p) => defaultPort(p, hostNetwork)) } : {}),
    ...(c.readinessProbe ? { readinessProbe: defaultProbe(c.readinessProbe) } : {}),
    ...(c.livenessProbe ? { livenessProbe: defaultProbe(c.livenessProbe) } : {}),
  };
  return out;
}

/** Container fields that types.ts does not name but Kubernetes defaults. */
interface DefaultableContainer extends Container {
  readonly terminationMessagePath?: string;
  readonly terminationMessagePolicy?: string;
}

/** `Always` for `:latest` or no tag (and no digest), else `IfNotPresent` (parsers.ParseImageName). */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  const at = image.indexOf('@');
  const hasDigest = at !== -1;
  const name = hasDigest ? image.slice(0, at) : image;
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  const colon = lastPart.indexOf(':');
  const tag = colon === -1 ? undefined : lastPart.slice(colon + 1);
  if (tag === undefined) return hasDigest ? 'IfNotPresent' : 'Always';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultPort(p: ContainerPort, hostNetwork: boolean): ContainerPort {
  return {
    ...p,
    protocol: p.protocol ?? 'TCP',
    // SetDefaults_PodSpec: with hostNetwork the host port is the container port.
    ...(hostNetwork && p.hostPort === undefined ? { hostPort: p.containerPort } : {}),
  };
}

function defaultProbe(p: Probe): Probe {
  return {
    ...p,
    ...(p.httpGet ? { httpGet: defaultHttpGet(p.httpGet) } : {}),
    timeoutSeconds: p.timeoutSeconds ?? 1,
    periodSeconds: p.periodSeconds ?? 10,
    successThreshold: p.successThreshold ?? 1,
    failureThreshold: p.failureThreshold ?? 3,
  };
}

function defaultHttpGet(h: HTTPGetAction): HTTPGetAction {
  return { ...h, path: h.path ?? '/', scheme: h.scheme ?? 'HTTP' };
}
