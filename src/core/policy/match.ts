// SPDX-License-Identifier: Apache-2.0
// Which compiled policies apply to an image in a namespace (SPEC §3.3): images glob and namespace
// (TrustPolicy: its own namespace; ClusterTrustPolicy: its namespaceSelector, absent = all).

import type { ImageReference } from '../reference.js';
import { matchesAny } from './glob.js';
import type {
  CompiledPolicy,
  LabelSelector,
  LabelSelectorRequirement,
  NamespaceInfo,
} from './types.js';

function matchesRequirement(
  req: LabelSelectorRequirement,
  labels: Readonly<Record<string, string>>,
): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  switch (req.operator) {
    case 'In':
      return has && (req.values ?? []).includes(value as string);
    case 'NotIn':
      // Kubernetes semantics: a namespace without the label satisfies NotIn.
      return !has || !(req.values ?? []).includes(value as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return unknownOperator(req.operator);
  }
}

/** An operator this build does not know never matches (fail closed: the policy does not apply). */
function unknownOperator(operator: never): boolean {
  void operator;
  return false;
}

/** Kubernetes label-selector semantics: every matchLabels entry and every expression must hold; `{}` matches all. */
export function matchesLabelSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(labels, key) || labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((req) => matchesRequirement(req, labels));
}

function appliesToNamespace(policy: CompiledPolicy, namespace: NamespaceInfo | undefined): boolean {
  if (policy.kind === 'TrustPolicy')
    return namespace !== undefined && namespace.name === policy.namespace;
  if (!policy.namespaceSelector) return true;
  // Unknown namespace (CLI, cluster-scoped object): a selector cannot be evaluated, so it does not match.
  return (
    namespace !== undefined && matchesLabelSelector(policy.namespaceSelector, namespace.labels)
  );
}

/**
 * The policies that apply to `ref` (matched on its normalized name `registry/repository`) for a
 * workload in `namespace`, in the order given.
 */
export function selectPolicies(
  policies: readonly CompiledPolicy[],
  ref: ImageReference,
  namespace: NamespaceInfo | undefined,
): CompiledPolicy[] {
  return policies.filter(
    (p) => matchesAny(p.imageMatchers, ref.name) && appliesToNamespace(p, namespace),
  );
}
