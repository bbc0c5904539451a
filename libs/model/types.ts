// The subset of Kubernetes apps/v1 and core/v1 object shapes this system understands.
// Field names and meanings are exactly Kubernetes' so manifests written for `kubectl apply`
// work unchanged and `-o json` output stays Kubernetes-exact. Everything is readonly data.

export type Labels = Readonly<Record<string, string>>;

export type IntOrString = number | string;

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface NodeSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  readonly values?: readonly string[];
}

export interface NodeSelectorTerm {
  readonly matchExpressions?: readonly NodeSelectorRequirement[];
  readonly matchFields?: readonly NodeSelectorRequirement[];
}

export interface NodeAffinity {
  readonly requiredDuringSchedulingIgnoredDuringExecution?: {
    readonly nodeSelectorTerms: readonly NodeSelectorTerm[];
  };
  readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly unknown[];
}

export interface Affinity {
  readonly nodeAffinity?: NodeAffinity;
  readonly podAffinity?: unknown;
  readonly podAntiAffinity?: unknown;
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
  /** RFC 3339; set for NoExecute taints added by the node lifecycle. */
  readonly timeAdded?: string;
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: TaintEffect;
  readonly tolerationSeconds?: number;
}

export interface ExecAction {
  readonly command?: readonly string[];
}

export interface HTTPGetAction {
  readonly path?: string;
  readonly port: IntOrString;
  readonly host?: string;
  readonly scheme?: 'HTTP' | 'HTTPS';
}

export interface TCPSocketAction {
  readonly port: IntOrString;
  readonly host?: string;
}

export interface Probe {
  readonly exec?: ExecAction;
  readonly httpGet?: HTTPGetAction;
  readonly tcpSocket?: TCPSocketAction;
  readonly initialDelaySeconds?: number;
  readonly periodSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly successThreshold?: number;
  readonly failureThreshold?: number;
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: unknown;
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly hostPort?: number;
  readonly protocol?: string;
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly workingDir?: string;
  readonly ports?: readonly ContainerPort[];
  readonly resources?: unknown;
  readonly volumeMounts?: readonly unknown[];
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly imagePullPolicy?: string;
  readonly securityContext?: unknown;
}

export interface PodSpec {
  readonly containers: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  readonly nodeName?: string;
  readonly nodeSelector?: Labels;
  readonly affinity?: Affinity;
  readonly tolerations?: readonly Toleration[];
  readonly hostNetwork?: boolean;
  readonly terminationGracePeriodSeconds?: number;
  readonly activeDeadlineSeconds?: number;
  readonly volumes?: readonly unknown[];
  readonly serviceAccountName?: string;
  readonly priorityClassName?: string;
  readonly dnsPolicy?: string;
  readonly [field: string]: unknown;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly labels?: Labels;
  readonly annotations?: Labels;
  readonly creationTimestamp?: string;
}

export interface PodTemplateSpec {
  readonly metadata?: { readonly labels?: Labels; readonly annotations?: Labels };
  readonly spec: PodSpec;
}

export interface RollingUpdateDaemonSet {
  readonly maxUnavailable?: IntOrString;
  readonly maxSurge?: IntOrString;
}

export interface DaemonSetUpdateStrategy {
  readonly type?: 'RollingUpdate' | 'OnDelete';
  readonly rollingUpdate?: RollingUpdateDaemonSet;
}

export interface DaemonSetSpec {
  readonly selector: LabelSelector;
  readonly template: PodTemplateSpec;
  readonly updateStrategy?: DaemonSetUpdateStrategy;
  readonly minReadySeconds?: number;
  readonly revisionHistoryLimit?: number;
}

export interface DaemonSetStatus {
  readonly currentNumberScheduled: number;
  readonly numberMisscheduled: number;
  readonly desiredNumberScheduled: number;
  readonly numberReady: number;
  readonly observedGeneration?: number;
  readonly updatedNumberScheduled?: number;
  readonly numberAvailable?: number;
  readonly numberUnavailable?: number;
  readonly collisionCount?: number;
}

/** A DaemonSet as a user writes it (before defaulting). */
export interface DaemonSetManifest {
  readonly apiVersion: 'apps/v1';
  readonly kind: 'DaemonSet';
  readonly metadata: ObjectMeta;
  readonly spec: DaemonSetSpec;
}

/** A DaemonSet spec after apps/v1 defaulting (SetDefaults_DaemonSet): every default filled in. */
export interface DefaultedDaemonSetSpec extends DaemonSetSpec {
  readonly updateStrategy:
    | { readonly type: 'RollingUpdate'; readonly rollingUpdate: { readonly maxUnavailable: IntOrString; readonly maxSurge: IntOrString } }
    | { readonly type: 'OnDelete' };
  readonly minReadySeconds: number;
  readonly revisionHistoryLimit: number;
}

/** A refusal of a manifest: the field path as Kubernetes prints it, and why. */
export interface FieldError {
  readonly field: string;
  readonly type: 'Required' | 'Invalid' | 'NotSupported' | 'Forbidden' | 'TooLong' | 'Duplicate';
  readonly value?: unknown;
  readonly detail: string;
}
