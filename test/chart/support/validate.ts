// SPDX-License-Identifier: Apache-2.0
// Validates rendered objects against the Kubernetes OpenAPI schemas (kubernetes-models); kinds
// defined by CRDs (cert-manager, Prometheus Operator, trustgate) get structural checks only.

import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import {
  MutatingWebhookConfiguration,
  ValidatingWebhookConfiguration,
} from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import type { K8sObject } from './chart.js';

interface Validatable {
  validate(): void;
}
type ModelCtor = new (data: never) => Validatable;

const MODELS: Record<string, ModelCtor> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': ValidatingWebhookConfiguration,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': MutatingWebhookConfiguration,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
};

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks every CRD-defined kind needs: metadata.name, an object spec, and a few kind-specific fields. */
function checkCustomResource(obj: K8sObject): string[] {
  const problems: string[] = [];
  const spec = obj['spec'];
  if (!isObject(spec)) return ['spec must be an object'];
  const key = `${obj.apiVersion}/${obj.kind}`;
  switch (key) {
    case 'cert-manager.io/v1/Certificate':
      if (typeof spec['secretName'] !== 'string') problems.push('spec.secretName must be a string');
      if (!isObject(spec['issuerRef']) || typeof spec['issuerRef']['name'] !== 'string') {
        problems.push('spec.issuerRef.name must be a string');
      }
      break;
    case 'cert-manager.io/v1/Issuer':
      if (!isObject(spec['selfSigned']) && !isObject(spec['ca']))
        problems.push('spec needs selfSigned or ca');
      break;
    case 'monitoring.coreos.com/v1/ServiceMonitor':
      if (!Array.isArray(spec['endpoints']) || spec['endpoints'].length === 0) {
        problems.push('spec.endpoints must be a non-empty list');
      }
      if (!isObject(spec['selector'])) problems.push('spec.selector must be an object');
      break;
    case 'trustgate.dev/v1alpha1/ClusterTrustPolicy':
      if (!Array.isArray(spec['images'])) problems.push('spec.images must be a list');
      break;
    default:
      problems.push(`no validator for ${key}`);
  }
  return problems;
}

/** Returns `Kind/name: problem` lines for every object that fails validation (empty = all valid). */
export function validateObjects(objs: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const obj of objs) {
    const id = `${obj.kind}/${obj.metadata?.name ?? '<no name>'}`;
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
      problems.push(`${id}: apiVersion and kind must be strings`);
      continue;
    }
    if (!isObject(obj.metadata) || typeof obj.metadata.name !== 'string') {
      problems.push(`${id}: metadata.name is required`);
      continue;
    }
    if (obj.metadata.name.length > 253 || !DNS1123_SUBDOMAIN.test(obj.metadata.name)) {
      problems.push(`${id}: metadata.name is not a DNS-1123 subdomain`);
    }
    const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
    if (Model) {
      try {
        new Model(obj as never).validate();
      } catch (err) {
        problems.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    } else {
      for (const p of checkCustomResource(obj)) problems.push(`${id}: ${p}`);
    }
  }
  return problems;
}
