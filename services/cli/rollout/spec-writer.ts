// Writing a DaemonSet's template from the CLI (set image, rollout undo|restart): a
// DaemonSetApplied with the same uid, labels and annotations, generation+1, stating the last spec
// sequence it was decided on (optimistic concurrency, as `apply` does). The result is validated
// and defaulted exactly as `apply` would, so an undo writes its revision's template byte for byte.

import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DsRecord } from '../../../libs/core/state.js';
import { canonicalJson } from '../../../libs/core/template-hash.js';
import type { DaemonSetApplied } from '../../../libs/events/types.js';
import { defaultDaemonSetSpec } from '../../../libs/model/defaults.js';
import type { PodTemplateSpec } from '../../../libs/model/types.js';
import { formatFieldErrors, parseDaemonSet } from '../../../libs/model/validate.js';
import { ConflictError, publishEvent } from '../../../libs/nats/publish.js';
import { readTopology } from '../../../libs/nats/topology.js';
import { dsSubject } from '../../../libs/topology/names.js';
import { dsSlot } from '../../../libs/topology/slot.js';
import { lastSpec } from '../apply.js';
import { CliError, notFound } from '../errors.js';
import { managerOf } from '../../../libs/nats/subject-reads.js';

/** A DaemonSet as its last spec event wrote it, and where that event is. */
export interface SpecTarget {
  readonly subject: string;
  /** Sequence of the last spec event: the write must find it still last. */
  readonly seq: number;
  readonly data: DaemonSetApplied['data'];
}

/** The DaemonSet's last spec, by a direct get of its subject's last message (no fold). */
export async function readSpecTarget(nc: NatsConnection, namespace: string, name: string): Promise<SpecTarget> {
  const settings = await readTopology(nc);
  if (!settings) throw notFound('daemonsets.apps', name);
  const subject = dsSubject(dsSlot(namespace, name, settings.slots), namespace, name);
  const last = await lastSpec(await managerOf(nc), subject);
  if (!last || last.event.type !== 'DaemonSetApplied') throw notFound('daemonsets.apps', name);
  return { subject, seq: last.seq, data: last.event.data };
}

/** The same, from a folded record (when the decision needs the fold: revisions, pods). */
export function specTargetOf(ds: DsRecord): SpecTarget {
  return {
    subject: dsSubject(ds.slot, ds.namespace, ds.name),
    seq: ds.lastSpecSeq,
    data: {
      namespace: ds.namespace,
      name: ds.name,
      uid: ds.uid,
      generation: ds.generation,
      labels: ds.labels,
      annotations: ds.annotations,
      spec: ds.spec,
    },
  };
}

/**
 * Writes `template` as the DaemonSet's template. Returns false (and writes nothing) when the
 * spec would not change. A bad result is refused with Kubernetes' Invalid text; a write that
 * lost a race is refused with its Conflict text.
 */
export async function writeTemplate(nc: NatsConnection, target: SpecTarget, template: PodTemplateSpec): Promise<boolean> {
  const d = target.data;
  const parsed = parseDaemonSet({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: d.name, namespace: d.namespace, labels: d.labels, annotations: d.annotations },
    spec: { ...d.spec, template },
  });
  if (!parsed.ok) throw new CliError(formatFieldErrors('DaemonSet', d.name, parsed.errors));
  const spec = defaultDaemonSetSpec(parsed.value.spec);
  if (canonicalJson(spec) === canonicalJson(d.spec)) return false;
  const event: DaemonSetApplied = { type: 'DaemonSetApplied', v: 1, data: { ...d, generation: d.generation + 1, spec } };
  try {
    await publishEvent(jetstream(nc), { subject: target.subject, event, expectLastSubjectSeq: target.seq });
  } catch (err) {
    if (err instanceof ConflictError) {
      throw new CliError(
        `Error from server (Conflict): Operation cannot be fulfilled on daemonsets.apps "${d.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    throw err;
  }
  return true;
}
