// A PATCH request's Content-Type → the patch function; failures become Kubernetes' errors.

import { ApiError, unsupportedMediaType } from './api-errors.js';
import { jsonMergePatch, jsonPatch, PatchError, strategicMergePatch, type Json } from './patch.js';

export type PatchType = 'strategic' | 'merge' | 'json';

export function patchTypeOf(contentType: string | undefined): PatchType {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (media === 'application/strategic-merge-patch+json') return 'strategic';
  if (media === 'application/merge-patch+json') return 'merge';
  if (media === 'application/json-patch+json') return 'json';
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
