export {
  LOG_STREAM, LOG_SUBJECTS, HEARTBEAT_STREAM, HEARTBEAT_SUBJECTS, DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECTS,
  CONFIG_BUCKET, CONFIG_SLOTS_KEY, LEASE_BUCKET, MEMBERS_BUCKET, SNAPSHOT_BUCKET, SNAPSHOT_OBJECT, DEFAULT_SLOTS,
  HEADER_REASON, HEADER_ORIGINAL_SUBJECT, HEADER_ORIGINAL_SEQ, HEADER_CONSUMER,
  dsSubject, dsStatusSubject, DS_ALL_FILTER, nodeSubject, NODE_ALL_FILTER, nodeAdminSubject, lifeSubject,
  namespaceSubject, NAMESPACE_ALL_FILTER,
  commandSubject, nodeCommandFilter, podReportSubject, podRequestSubject, clockSubject, shardSubject, heartbeatSubject,
  HEARTBEAT_ALL_FILTER, deadLetterSubject, leaseKey, subjectFamilyOf, subjectFamilyPrefix, subjectNodeToken, subjectSlot, slotFilter, GLOBAL_FILTER, ALL_SLOTS_FILTER, isSlotFamily, LEGACY_LOG_SUBJECTS,
} from './names.js';
export type { SubjectFamily } from './names.js';
export { escapeToken, unescapeToken } from './escape.js';
export { fnv1a32, dsSlot, nodeSlot } from './slot.js';
