// A PATCH request's Content-Type → the patch function; failures become Kubernetes' errors.

import { ApiError, unsupportedMediaType } from './api-errors.js';
import { jsonMergePatch, jsonPatch, PatchError, strategicMergePatch, type Json, type JsonMap } from './patch.js';
import { applyConfiguration } from './server-side-apply.js';

/** `apply` is server-side apply (server-side-apply.ts), handled by each resource's writes. */
export type PatchType = 'strategic' | 'merge' | 'json' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (media === 'application/strategic-merge-patch+json') return 'strategic';
  if (media === 'application/merge-patch+json') return 'merge';
  if (media === 'application/json-patch+json') return 'json';
  if (media === 'application/apply-patch+yaml') return 'apply';
  throw unsupportedMediaType(media);
}

export function applyPatch(type: PatchType, original: Json, patch: unknown): Json {
  try {
    switch (type) {
      case 'strategic':
        return strategicMergePatch(original, patch as Json);
      case 'merge':
        return jsonMergePatch(original, patch as Json);
      case 'json':
        return jsonPatch(original, patch);
      case 'apply':
        if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new PatchError('an apply configuration must be an object');
        return applyConfiguration(original, patch as JsonMap);
      default: {
        const never: never = type;
        return never;
      }
    }
  } catch (err) {
    if (err instanceof PatchError) throw new ApiError(422, 'Invalid', err.message);
    throw err;
  }
}
