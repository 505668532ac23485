import { Certificate, Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import {
  AuthorizationPolicy,
  PeerAuthentication,
} from '@kubernetes-models/istio/security.istio.io/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { KubeObject } from './kustomize';

interface Model {
  validate(): void;
}

/** The schema of every kind the manifests use; a new kind needs its model here. */
const MODELS: Record<string, new (data: never) => Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'cert-manager.io/v1/Certificate': Certificate,
  'cert-manager.io/v1/Issuer': Issuer,
  'security.istio.io/v1/PeerAuthentication': PeerAuthentication,
  'security.istio.io/v1/AuthorizationPolicy': AuthorizationPolicy,
};

/**
 * Why an object does not validate against the schema of its kind (the
 * OpenAPI schemas of Kubernetes, cert-manager and Istio, via kubernetes-models),
 * or undefined when it does. These schemas check types, formats and required
 * fields, not unknown fields: the invariant tests check the fields that matter by name.
 */
export function schemaError(object: KubeObject): string | undefined {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) {
    return `no schema for ${object.apiVersion} ${object.kind}: add its model to kube-schema.ts`;
  }
  try {
    new Model(object as never).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
