import type { KubeObject } from './kustomize';

/** A pod that sends or receives: one of ours (a Deployment's pods) or a peer outside the namespace. */
export interface Endpoint {
  name: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
  ports: number[];
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}

interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { port?: number | string; protocol?: string }[];
}

interface PolicySpec {
  podSelector: LabelSelector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: Rule[];
  egress?: Rule[];
}

/**
 * Evaluates the NetworkPolicies of one namespace as the Kubernetes API defines
 * them (TCP; pod and namespace selectors; no ipBlock): a connection is allowed
 * when the sender may send it and the receiver may receive it.
 */
export class NetworkPolicies {
  private readonly policies: { namespace: string; spec: PolicySpec }[];

  constructor(objects: readonly KubeObject[]) {
    this.policies = objects
      .filter((object) => object.kind === 'NetworkPolicy')
      .map((object) => ({
        namespace: object.metadata.namespace ?? 'default',
        spec: object['spec'] as PolicySpec,
      }));
    for (const { spec } of this.policies) {
      const peers = [
        ...(spec.ingress ?? []).flatMap((r) => r.from ?? []),
        ...(spec.egress ?? []).flatMap((r) => r.to ?? []),
      ];
      if (peers.some((peer) => peer.ipBlock)) {
        throw new Error('ipBlock peers are not evaluated here');
      }
    }
  }

  allows(from: Endpoint, to: Endpoint, port: number): boolean {
    return (
      this.direction(from, 'Egress', (rule) => this.ruleAllows(rule, rule.to, to, port)) &&
      this.direction(to, 'Ingress', (rule) => this.ruleAllows(rule, rule.from, from, port))
    );
  }

  /** Allowed unless some policy isolates the pod in that direction and none of their rules allows it. */
  private direction(
    pod: Endpoint,
    type: 'Ingress' | 'Egress',
    allows: (rule: Rule) => boolean,
  ): boolean {
    const selecting = this.policies.filter(
      ({ namespace, spec }) =>
        namespace === pod.namespace &&
        matches(spec.podSelector, pod.labels) &&
        policyTypes(spec).includes(type),
    );
    if (selecting.length === 0) return true;
    return selecting.some(
      ({ spec }) => (type === 'Ingress' ? spec.ingress : spec.egress)?.some(allows) ?? false,
    );
  }

  private ruleAllows(
    rule: Rule,
    peers: Peer[] | undefined,
    other: Endpoint,
    port: number,
  ): boolean {
    const portOk =
      !rule.ports?.length ||
      rule.ports.some(
        (p) => (p.protocol ?? 'TCP') === 'TCP' && (p.port === undefined || p.port === port),
      );
    if (!portOk) return false;
    if (!peers?.length) return true;
    return peers.some((peer) => {
      if (peer.namespaceSelector) {
        return (
          matches(peer.namespaceSelector, other.namespaceLabels) &&
          matches(peer.podSelector ?? {}, other.labels)
        );
      }
      return (
        other.namespace === this.namespaceOf(rule) && matches(peer.podSelector ?? {}, other.labels)
      );
    });
  }

  private namespaceOf(rule: Rule): string {
    const owner = this.policies.find(
      ({ spec }) => spec.ingress?.includes(rule) || spec.egress?.includes(rule),
    );
    return owner?.namespace ?? 'default';
  }
}

function policyTypes(spec: PolicySpec): ('Ingress' | 'Egress')[] {
  return spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

/** Label selector semantics: every matchLabels pair and every expression must hold; `{}` matches all. */
export function matches(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(
    ([key, value]) => labels[key] === value,
  );
  const byExpressions = (selector.matchExpressions ?? []).every(
    ({ key, operator, values = [] }) => {
      switch (operator) {
        case 'In':
          return key in labels && values.includes(labels[key]);
        case 'NotIn':
          return !(key in labels) || !values.includes(labels[key]);
        case 'Exists':
          return key in labels;
        case 'DoesNotExist':
          return !(key in labels);
      }
    },
  );
  return byLabels && byExpressions;
}
