// The downward API in `env[].valueFrom`, as the kubelet answers it (kubelet_pods.go
// makeEnvironmentVariables → podFieldSelectorRuntimeValue / containerResourceRuntimeValue):
//
// fieldRef.fieldPath, the paths API validation allows in env (validEnvDownwardAPIFieldPathExpressions):
//   metadata.name | metadata.namespace | metadata.uid | metadata.labels['<key>'] |
//   metadata.annotations['<key>'] (a missing key gives "") | spec.nodeName |
//   spec.serviceAccountName (admission defaults it to "default") | status.hostIP | status.hostIPs |
//   status.podIP | status.podIPs (lists joined with ",")
// The process driver runs every container on the node's network, as a hostNetwork pod, so the
// pod's IPs are the node's IPs.
//
// resourceFieldRef: { containerName?, resource, divisor? } with resource limits.cpu,
// limits.memory, limits.ephemeral-storage, requests.* of the same, or limits./requests.hugepages-<size>
// (resource.ExtractContainerResourceValue). Requests left unset take the limit (SetDefaults_Pod);
// limits left unset (or zero) take the node's allocatable (kubelet defaultPodLimitsForDownwardAPI,
// MergeContainerResourceLimits; not hugepages). The value is ceil(quantity / divisor): CPU in
// thousandths (MilliValue), everything else in units (Value), divided in float64 as Go does.

import type { Container } from '../../../libs/model/types.js';
import type { RuntimeNode, RuntimePod } from '../../../libs/agent-runtime/driver.js';
import { isZeroQuantity, parseQuantity, quantityMilliValue, quantityValue, type Quantity } from './quantity.js';

export type Resolved = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string };

const ok = (value: string): Resolved => ({ ok: true, value });
const fail = (error: string): Resolved => ({ ok: false, error });

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** validation.IsQualifiedName: `[prefix/]name`, prefix a DNS-1123 subdomain, name at most 63 characters. */
function isQualifiedName(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1] ?? '';
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** fieldpath.SplitMaybeSubscriptedPath: `metadata.labels['app']` → ['metadata.labels', 'app']. */
function splitSubscript(path: string): readonly [string, string] | undefined {
  if (!path.endsWith("']")) return undefined;
  const inner = path.slice(0, -2);
  const at = inner.indexOf("['");
  if (at <= 0) return undefined;
  return [inner.slice(0, at), inner.slice(at + 2)];
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value of `valueFrom.fieldRef` for `pod` on `node`. */
export function fieldRefValue(fieldRef: unknown, pod: RuntimePod, node: RuntimeNode): Resolved {
  if (!isRecord(fieldRef)) return fail('fieldRef: expected an object');
  const apiVersion = fieldRef['apiVersion'];
  if (apiVersion !== undefined && apiVersion !== null && apiVersion !== '' && apiVersion !== 'v1') {
    return fail(`fieldRef.apiVersion: unsupported version ${JSON.stringify(apiVersion)} (only "v1")`);
  }
  const path = fieldRef['fieldPath'];
  if (typeof path !== 'string') return fail('fieldRef.fieldPath: required');
  const subscripted = splitSubscript(path);
  if (subscripted !== undefined) {
    const [base, key] = subscripted;
    if (base === 'metadata.labels') {
      if (!isQualifiedName(key)) return fail(`fieldRef.fieldPath ${JSON.stringify(path)}: invalid label key`);
      return ok(pod.labels?.[key] ?? '');
    }
    if (base === 'metadata.annotations') {
      if (!isQualifiedName(key.toLowerCase())) return fail(`fieldRef.fieldPath ${JSON.stringify(path)}: invalid annotation key`);
      return ok(pod.annotations[key] ?? '');
    }
    return fail(`fieldRef.fieldPath ${JSON.stringify(path)}: not supported in env`);
  }
  const podIPs = node.hostIPs;
  switch (path) {
    case 'metadata.name':
      return ok(pod.name);
    case 'metadata.namespace':
      return ok(pod.namespace);
    case 'metadata.uid':
      return ok(pod.uid);
    case 'spec.nodeName':
      return ok(pod.spec.nodeName ?? node.name);
    case 'spec.serviceAccountName': {
      // v1 → internal conversion takes the deprecated `serviceAccount` when the name is empty;
      // the ServiceAccount admission plugin then defaults it to "default".
      const deprecated = pod.spec['serviceAccount'];
      return ok(pod.spec.serviceAccountName || (typeof deprecated === 'string' && deprecated) || 'default');
    }
    case 'status.hostIP':
    case 'status.podIP':
      return ok(node.hostIPs[0] ?? '');
    case 'status.hostIPs':
      return ok(node.hostIPs.join(','));
    case 'status.podIPs':
      return ok(podIPs.join(','));
    default:
      return fail(`fieldRef.fieldPath ${JSON.stringify(path)}: not supported in env`);
  }
}

type ResourceKind = 'cpu' | 'units';

/** `limits.cpu` → { list: 'limits', name: 'cpu', kind: 'cpu' }; undefined when env cannot ask for it. */
function resourceOf(resource: string): { readonly list: 'limits' | 'requests'; readonly name: string; readonly kind: ResourceKind } | undefined {
  const dot = resource.indexOf('.');
  const list = resource.slice(0, dot);
  const name = resource.slice(dot + 1);
  if (dot < 0 || (list !== 'limits' && list !== 'requests')) return undefined;
  if (name === 'cpu') return { list, name, kind: 'cpu' };
  if (name === 'memory' || name === 'ephemeral-storage' || (name.startsWith('hugepages-') && name.length > 'hugepages-'.length)) {
    return { list, name, kind: 'units' };
  }
  return undefined;
}

/** Resources whose unset limit the kubelet fills from node allocatable for the downward API. */
const LIMITS_FROM_ALLOCATABLE: ReadonlySet<string> = new Set(['cpu', 'memory', 'ephemeral-storage']);

function quantityIn(list: unknown, name: string): Quantity | undefined | 'invalid' {
  if (!isRecord(list) || !(name in list)) return undefined;
  return parseQuantity(list[name]) ?? 'invalid';
}

/** The container's `resource` after API defaulting and the kubelet's node-allocatable limits. */
function effectiveQuantity(container: Container, list: 'limits' | 'requests', name: string, node: RuntimeNode): Quantity | 'invalid' {
  const resources = isRecord(container.resources) ? container.resources : {};
  const limit = quantityIn(resources['limits'], name);
  if (limit === 'invalid') return 'invalid';
  if (list === 'requests') {
    const request = quantityIn(resources['requests'], name);
    if (request !== undefined) return request;
    // SetDefaults_Pod: a request left unset takes the limit the manifest gives.
    return limit ?? { numerator: 0n, denominator: 1n };
  }
  if ((limit === undefined || isZeroQuantity(limit)) && LIMITS_FROM_ALLOCATABLE.has(name)) {
    const allocatable = quantityIn(node.allocatable, name);
    if (allocatable !== undefined && allocatable !== 'invalid') return allocatable;
  }
  return limit ?? { numerator: 0n, denominator: 1n };
}

/** Go's int64(math.Ceil(float64(a) / float64(b))), printed with strconv.FormatInt. */
function ceilRatio(a: bigint, b: bigint): Resolved {
  const ratio = Math.ceil(Number(a) / Number(b));
  return Number.isFinite(ratio) ? ok(BigInt(ratio).toString()) : fail('resourceFieldRef: value out of range');
}

/** The value of `valueFrom.resourceFieldRef` for `container` of `pod` on `node`. */
export function resourceFieldRefValue(ref: unknown, pod: RuntimePod, container: Container, node: RuntimeNode): Resolved {
  if (!isRecord(ref)) return fail('resourceFieldRef: expected an object');
  const resource = ref['resource'];
  if (typeof resource !== 'string' || resource === '') return fail('resourceFieldRef.resource: required');
  const what = resourceOf(resource);
  if (what === undefined) return fail(`resourceFieldRef.resource ${JSON.stringify(resource)}: unsupported container resource`);

  let target = container;
  const name = ref['containerName'];
  if (typeof name === 'string' && name !== '') {
    const found = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => c.name === name);
    if (found === undefined) return fail(`resourceFieldRef.containerName: container ${JSON.stringify(name)} not found`);
    target = found;
  }

  const rawDivisor = ref['divisor'];
  let divisor: Quantity = { numerator: 1n, denominator: 1n };
  if (rawDivisor !== undefined && rawDivisor !== null) {
    const parsed = parseQuantity(rawDivisor);
    if (parsed === undefined) return fail(`resourceFieldRef.divisor: invalid quantity ${JSON.stringify(rawDivisor)}`);
    if (parsed.numerator < 0n) return fail(`resourceFieldRef.divisor: must be positive, not ${JSON.stringify(rawDivisor)}`);
    // A zero divisor is the field's zero value: ExtractContainerResourceValue reads it as 1.
    if (!isZeroQuantity(parsed)) divisor = parsed;
  }

  const quantity = effectiveQuantity(target, what.list, what.name, node);
  if (quantity === 'invalid') return fail(`resources of container ${JSON.stringify(target.name)}: invalid ${what.name} quantity`);
  if (what.kind === 'cpu') {
    const d = quantityMilliValue(divisor);
    return ceilRatio(quantityMilliValue(quantity), d);
  }
  return ceilRatio(quantityValue(quantity), quantityValue(divisor));
}
