import type { Tree } from '@nx/devkit';
import { isMap, isSeq } from 'yaml';
import type { NormalizedOptions } from './normalize-options';
import { renderTemplates } from './template-files';
import { appendToList, updateYaml } from './yaml-lists';

const BASE = 'k8s/base';
const OVERLAYS = 'k8s/overlays';
const MESH = `${OVERLAYS}/mesh`;

/**
 * The service's own folder under k8s/base (ServiceAccount, Deployment, Service,
 * Certificate, NetworkPolicy), listed in the base kustomization; in every
 * overlay that pins images, an entry shaped like the others; and in the mesh
 * overlay, the AuthorizationPolicy that admits only its callers.
 */
export function addKubernetesManifests(tree: Tree, options: NormalizedOptions): void {
  renderTemplates(tree, 'k8s', `${BASE}/${options.name}`, options);
  const base = `${BASE}/kustomization.yaml`;
  if (
    !updateYaml(tree, base, (document) => appendToList(document, 'resources', options.name, base))
  ) {
    throw new Error(
      `${base} not found: the service joins the manifests through its resources list.`,
    );
  }
  for (const overlay of tree.exists(OVERLAYS) ? tree.children(OVERLAYS) : []) {
    const path = `${OVERLAYS}/${overlay}/kustomization.yaml`;
    updateYaml(tree, path, (document) => {
      const images = document.get('images');
      if (!isSeq(images) || !isMap(images.items[0])) return;
      appendToList(
        document,
        'images',
        imageEntryLike(images.items[0].toJSON() as ImageEntry, options.name),
        path,
      );
    });
  }
  const mesh = `${MESH}/kustomization.yaml`;
  if (tree.exists(mesh)) {
    renderTemplates(tree, 'k8s-mesh', `${MESH}/authorization`, options);
    updateYaml(tree, mesh, (document) =>
      appendToList(document, 'resources', `authorization/${options.name}.yaml`, mesh),
    );
  }
}

interface ImageEntry {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

/** `{ name: acme/gateway, newName: registry/acme/gateway, newTag: 1.0 }` -> the same for `service`. */
function imageEntryLike(example: ImageEntry, service: string): ImageEntry {
  const rename = (image: string) => image.replace(/[^/]+$/, service);
  const entry: ImageEntry = { name: rename(example.name) };
  if (example.newName) entry.newName = rename(example.newName);
  if (example.newTag) entry.newTag = example.newTag;
  return entry;
}
