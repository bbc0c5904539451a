// `set image`'s pure part, as kubectl's set_image.go does it: parse CONTAINER=IMAGE pairs and
// change the images of the named containers (and init containers; `*` names them all). PURE.

import type { Container, PodTemplateSpec } from '../../../libs/model/types.js';

export interface ImageUpdate {
  readonly container: string;
  readonly image: string;
}

/** `name=image` pairs; undefined for an argument that is not one. */
export function parseImageUpdates(args: readonly string[]): ImageUpdate[] | undefined {
  const out: ImageUpdate[] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0 || eq === arg.length - 1) return undefined;
    out.push({ container: arg.slice(0, eq), image: arg.slice(eq + 1) });
  }
  return out;
}

export interface SetImageResult {
  readonly template: PodTemplateSpec;
  /** Names that matched no container, in the order given. */
  readonly missing: string[];
}

function setImage(containers: readonly Container[], update: ImageUpdate): { containers: Container[]; found: boolean } {
  let found = false;
  const next = containers.map((c) => {
    if (c.name !== update.container && update.container !== '*') return c;
    found = true;
    return { ...c, image: update.image };
  });
  return { containers: next, found };
}

/** set_image.go's UpdatePodSpecForObject callback: every update applied to containers and init containers. */
export function setImages(template: PodTemplateSpec, updates: readonly ImageUpdate[]): SetImageResult {
  let containers = template.spec.containers;
  let initContainers = template.spec.initContainers;
  const missing: string[] = [];
  for (const u of updates) {
    const init = setImage(initContainers ?? [], u);
    const main = setImage(containers, u);
    if (initContainers) initContainers = init.containers;
    containers = main.containers;
    if (!init.found && !main.found) missing.push(u.container);
  }
  return {
    template: { ...template, spec: { ...template.spec, containers, ...(initContainers ? { initContainers } : {}) } },
    missing,
  };
}
