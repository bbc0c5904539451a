// The fields of the served kinds that the API server's strict decoding knows (apps/v1 DaemonSet
// and v1 Namespace at Kubernetes 1.32), for `fieldValidation`: Strict refuses an object with a
// field outside them, Warn accepts it with a warning, Ignore accepts it; both drop the field, as
// decoding into the Go types does. PURE.
//
// The tree names every field down to the containers and the pod spec's common sub-objects.
// Below that (a volume's source, a probe's handler details, securityContext, affinity terms) a
// subtree is `OPEN`: not checked, kept as sent. A typo there is not caught; a valid field is
// never refused.

type Schema = typeof LEAF | typeof OPEN | ObjectSchema | ListSchema;

interface ObjectSchema {
  readonly fields: Readonly<Record<string, Schema>>;
}

interface ListSchema {
  readonly items: Schema;
}

/** A scalar (or a value whose type parseDaemonSet checks). */
const LEAF = 'leaf';
/** Anything: a string map (labels), or a subtree this table does not enumerate. */
const OPEN = 'open';

function obj(fields: Readonly<Record<string, Schema>>): ObjectSchema {
  return { fields };
}

function list(items: Schema): ListSchema {
  return { items };
}

/** Leaf fields, each a scalar or an open subtree. */
function leaves(names: readonly string[], open: readonly string[] = []): Record<string, Schema> {
  return Object.fromEntries([...names.map((n) => [n, LEAF] as const), ...open.map((n) => [n, OPEN] as const)]);
}

const OBJECT_META = obj({
  ...leaves(
    ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'],
    ['labels', 'annotations', 'ownerReferences', 'managedFields'],
  ),
  finalizers: list(LEAF),
});

const LABEL_SELECTOR = obj({
  matchLabels: OPEN,
  matchExpressions: list(obj(leaves(['key', 'operator'], ['values']))),
});

const PROBE = obj({
  ...leaves(['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds']),
  exec: obj(leaves([], ['command'])),
  httpGet: obj(leaves(['path', 'port', 'host', 'scheme'], ['httpHeaders'])),
  tcpSocket: obj(leaves(['port', 'host'])),
  grpc: obj(leaves(['port', 'service'])),
});

const CONTAINER = obj({
  ...leaves(
    ['name', 'image', 'workingDir', 'imagePullPolicy', 'restartPolicy', 'terminationMessagePath', 'terminationMessagePolicy', 'stdin', 'stdinOnce', 'tty'],
    ['command', 'args', 'envFrom', 'resizePolicy', 'volumeDevices', 'lifecycle', 'securityContext'],
  ),
  ports: list(obj(leaves(['name', 'hostPort', 'containerPort', 'protocol', 'hostIP']))),
  env: list(obj(leaves(['name', 'value'], ['valueFrom']))),
  resources: obj(leaves([], ['limits', 'requests', 'claims'])),
  volumeMounts: list(obj(leaves(['name', 'readOnly', 'recursiveReadOnly', 'mountPath', 'subPath', 'mountPropagation', 'subPathExpr']))),
  livenessProbe: PROBE,
  readinessProbe: PROBE,
  startupProbe: PROBE,
});

/** Every volume source of core/v1 Volume, each open. */
const VOLUME = obj({
  name: LEAF,
  hostPath: obj(leaves(['path', 'type'])),
  ...leaves(
    [],
    [
      'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs', 'persistentVolumeClaim', 'rbd',
      'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk',
      'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
    ],
  ),
});

const POD_SPEC = obj({
  ...leaves(
    [
      'restartPolicy', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'dnsPolicy', 'serviceAccountName', 'serviceAccount',
      'automountServiceAccountToken', 'nodeName', 'hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace', 'hostname', 'subdomain',
      'schedulerName', 'priorityClassName', 'priority', 'runtimeClassName', 'enableServiceLinks', 'preemptionPolicy', 'setHostnameAsFQDN', 'hostUsers',
    ],
    [
      'nodeSelector', 'securityContext', 'imagePullSecrets', 'affinity', 'hostAliases', 'dnsConfig', 'readinessGates', 'overhead',
      'topologySpreadConstraints', 'os', 'schedulingGates', 'resourceClaims', 'resources', 'ephemeralContainers',
    ],
  ),
  containers: list(CONTAINER),
  initContainers: list(CONTAINER),
  volumes: list(VOLUME),
  tolerations: list(obj(leaves(['key', 'operator', 'value', 'effect', 'tolerationSeconds']))),
});

const DAEMON_SET = obj({
  ...leaves(['apiVersion', 'kind'], ['status']),
  metadata: OBJECT_META,
  spec: obj({
    selector: LABEL_SELECTOR,
    template: obj({ metadata: OBJECT_META, spec: POD_SPEC }),
    updateStrategy: obj({ type: LEAF, rollingUpdate: obj(leaves(['maxUnavailable', 'maxSurge'])) }),
    minReadySeconds: LEAF,
    revisionHistoryLimit: LEAF,
  }),
});

const NAMESPACE = obj({
  ...leaves(['apiVersion', 'kind'], ['status']),
  metadata: OBJECT_META,
  spec: obj({ finalizers: list(LEAF) }),
});

export type CheckedKind = 'DaemonSet' | 'Namespace';

const SCHEMAS: Readonly<Record<CheckedKind, Schema>> = { DaemonSet: DAEMON_SET, Namespace: NAMESPACE };

export interface FieldCheck {
  /** Paths of the unknown fields in document order, as Kubernetes names them (`spec.x[0].y`). */
  readonly unknown: readonly string[];
  /** The value without them. */
  readonly pruned: unknown;
}

function isObj(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walk(value: unknown, schema: Schema, path: string, unknown: string[]): unknown {
  if (schema === LEAF || schema === OPEN) return value;
  if ('items' in schema) return Array.isArray(value) ? value.map((item, i) => walk(item, schema.items, `${path}[${i}]`, unknown)) : value;
  if (!isObj(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const sub = path === '' ? key : `${path}.${key}`;
    const field = Object.hasOwn(schema.fields, key) ? schema.fields[key] : undefined;
    if (field === undefined) {
      unknown.push(sub);
      continue;
    }
    out[key] = walk(v, field, sub, unknown);
  }
  return out;
}

/** The unknown fields of an object of `kind`, and the object without them. */
export function checkKnownFields(kind: CheckedKind, value: unknown): FieldCheck {
  const unknown: string[] = [];
  const pruned = walk(value, SCHEMAS[kind], '', unknown);
  return { unknown, pruned };
}
