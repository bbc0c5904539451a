export type {
  Labels, IntOrString, LabelSelectorRequirement, LabelSelector, NodeSelectorRequirement, NodeSelectorTerm,
  NodeAffinity, Affinity, TaintEffect, Taint, Toleration, ExecAction, HTTPGetAction, TCPSocketAction, Probe,
  EnvVar, ContainerPort, Container, PodSpec, ObjectMeta, PodTemplateSpec, RollingUpdateDaemonSet,
  DaemonSetUpdateStrategy, DaemonSetSpec, DaemonSetStatus, DaemonSetManifest, DefaultedDaemonSetSpec, FieldError,
} from './types.js';
export {
  defaultDaemonSetSpec, defaultPodTemplate, defaultPodSpec, defaultContainer, defaultPullPolicy,
  DEFAULT_MAX_UNAVAILABLE, DEFAULT_MAX_SURGE, DEFAULT_REVISION_HISTORY_LIMIT, DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
} from './defaults.js';
export type { ParseResult } from './validate.js';
export {
  parseDaemonSet, validateDaemonSetUpdate, formatFieldError, formatFieldErrors, formatErrorValue,
} from './validate.js';
export type { SelectorOperator, SelectorRequirement, ParsedSelector } from './selectors.js';
export {
  matchesSelector, selectorRequirements, requirementMatches, formatRequirement, formatSelector,
  parseSelectorString, parseInt64,
} from './selectors.js';
export type { TaintRemoval, TaintArg } from './taints.js';
export {
  TAINT_EFFECTS, isTaintEffect, tolerates, tolerationsTolerate, findUntoleratedTaint, formatTaint, parseTaintArg,
} from './taints.js';
export {
  isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidLabelValue,
  DNS1123_LABEL_MAX_LENGTH, DNS1123_SUBDOMAIN_MAX_LENGTH, QUALIFIED_NAME_MAX_LENGTH, LABEL_VALUE_MAX_LENGTH,
} from './label-syntax.js';
