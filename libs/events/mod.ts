// The public face of libs/events: the event union, the table of what each type means, upcasting
// of old versions, and validation.

export type {
  TaintSource,
  DeletePropagation,
  DsRef,
  DaemonSetApplied,
  DaemonSetDeleted,
  NamespaceCreated,
  NamespaceDeleted,
  NodeRegistered,
  NodeLabelsSet,
  NodeTaintsSet,
  NodeUnschedulableSet,
  NodeDeregistered,
  NodeReady,
  NodeNotReady,
  CommandMeta,
  PodCreate,
  PodDelete,
  PodReportBase,
  PodStarted,
  PodReady,
  PodNotReady,
  PodFailed,
  PodSucceeded,
  PodDeleted,
  CommandRejected,
  DaemonSetStatusUpdated,
  ShardAcquired,
  Heartbeat,
  LogEvent,
  AnyEvent,
  EventType,
  PodCommand,
  Envelope,
} from './types.js';
export type { RawEvent, NodeRegisteredV0 } from './upcast.js';
export { upcast, LEGACY_INCARNATION } from './upcast.js';
export type { ValidationResult, RawEventResult } from './validate.js';
export {
  validateEvent,
  checkRawEvent,
  authorMatchesSubject,
  currentVersion,
  EVENT_TYPES,
  MAX_STRING_LENGTH,
  MAX_NAME_LENGTH,
  MAX_KEY_LENGTH,
  MAX_LABEL_VALUE_LENGTH,
  MAX_MAP_ENTRIES,
  MAX_ARRAY_ENTRIES,
} from './validate.js';
export type { EventKind, EventRow, EventTable, PodReport, TypesOfKind } from './event-table.js';
export { EVENT_TABLE, POD_REPORT_TYPES, eventFamily, eventKind, eventNode, isPodReport, typesOfKind } from './event-table.js';
