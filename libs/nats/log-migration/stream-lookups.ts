// Reading what is on the server where a missing stream or message is an answer, not an error.

import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';

export function isStreamNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 10059 || (err instanceof Error && /stream not found/i.test(err.message));
}

function isNoMessage(err: unknown): boolean {
  return (err as { code?: number }).code === 10037 || (err instanceof Error && /no message found/i.test(err.message));
}

export async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (isStreamNotFound(err)) return undefined;
    throw err;
  }
}

export async function lastJson<T>(jsm: JetStreamManager, stream: string, subject: string): Promise<T | undefined> {
  try {
    const m = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    return m ? m.json<T>() : undefined;
  } catch (err) {
    if (isNoMessage(err)) return undefined;
    throw err;
  }
}
