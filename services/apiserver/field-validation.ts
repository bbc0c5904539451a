// `?fieldValidation=Strict|Warn|Ignore` on create, update and patch, as the API server does it
// (k8s.io/apiserver/pkg/endpoints/handlers: fieldValidation): Strict refuses unknown fields with a
// 400 naming them all, Warn answers with one `Warning` header per field, Ignore drops them
// silently. Absent means Warn, the server's default since Kubernetes 1.27; kubectl sends Strict.

import { badRequest } from './api-errors.js';
import { checkKnownFields, type CheckedKind } from './known-fields.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** The directive of a request; anything else is a 400, as the API server answers. */
export function fieldValidationOf(query: URLSearchParams): FieldValidation {
  const v = query.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation parameter unsupported: ${v.slice(0, 64)}`);
}

/** How the body is about to be used, for the wording of a strict refusal. */
export type DecodeStep = 'create' | 'patch';

export interface ValidatedBody {
  /** The body without unknown fields. */
  readonly body: unknown;
  /** `Warning` header values (`299 - "unknown field \"x\""`), empty unless Warn found some. */
  readonly warnings: readonly string[];
}

/** Kubernetes' strict decoding error text: `strict decoding error: unknown field "a", unknown field "b"`. */
export function strictDecodingMessage(unknown: readonly string[]): string {
  return `strict decoding error: ${unknown.map((f) => `unknown field ${JSON.stringify(f)}`).join(', ')}`;
}

/**
 * Applies the directive to an object of `kind`. A create reports as the decoder does
 * (`DaemonSet in version "v1" cannot be handled as a DaemonSet: strict decoding error: …`); a
 * patch as the patcher does (the strict decoding error alone).
 */
export function validateFields(kind: CheckedKind, body: unknown, directive: FieldValidation, step: DecodeStep): ValidatedBody {
  const { unknown, pruned } = checkKnownFields(kind, body);
  if (unknown.length === 0) return { body, warnings: [] };
  if (directive === 'Strict') {
    const message = strictDecodingMessage(unknown);
    throw badRequest(step === 'create' ? `${kind} in version "v1" cannot be handled as a ${kind}: ${message}` : message);
  }
  return { body: pruned, warnings: directive === 'Warn' ? unknown.map((f) => `299 - ${JSON.stringify(`unknown field ${JSON.stringify(f)}`)}`) : [] };
}
