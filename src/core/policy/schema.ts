// SPDX-License-Identifier: Apache-2.0
// JSON Schema of TrustPolicySpec: checked with ajv at validation time and emitted (with
// `additionalProperties: false` dropped, as structural schemas require) as the CRDs' openAPIV3Schema.

import { Ajv, type ValidateFunction } from 'ajv';
import type { TrustPolicySpec } from './types.js';

/** The JSON Schema subset shared by ajv and Kubernetes structural schemas (no $ref, no oneOf). */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'number';
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  items?: JsonSchema;
  enum?: readonly (string | number | boolean)[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  minProperties?: number;
  maxProperties?: number;
  default?: unknown;
}

const PEM_MAX = 64 * 1024;
const BUNDLE_MAX = 1024 * 1024;

const str = (description: string, extra: Partial<JsonSchema>): JsonSchema => ({
  type: 'string',
  description,
  ...extra,
});

const strList = (
  description: string,
  item: JsonSchema,
  extra: Partial<JsonSchema> = {},
): JsonSchema => ({
  type: 'array',
  description,
  items: item,
  maxItems: 256,
  ...extra,
});

const resourceKeyRef = (description: string): JsonSchema => ({
  type: 'object',
  description: `${description} Name exactly one of configMap or secret.`,
  additionalProperties: false,
  required: ['key'],
  properties: {
    configMap: str('Name of the ConfigMap holding the PEM text.', { minLength: 1, maxLength: 253 }),
    secret: str('Name of the Secret holding the PEM text.', { minLength: 1, maxLength: 253 }),
    namespace: str(
      "Namespace of the ConfigMap/Secret; defaults to the policy's namespace (TrustPolicy) or trustgate's own namespace (ClusterTrustPolicy).",
      { minLength: 1, maxLength: 63 },
    ),
    key: str('Key inside the ConfigMap/Secret data.', { minLength: 1, maxLength: 253 }),
  },
});

const pemCertList = (description: string): JsonSchema =>
  strList(
    description,
    str('PEM text: one or more -----BEGIN CERTIFICATE----- blocks.', {
      minLength: 1,
      maxLength: BUNDLE_MAX,
    }),
  );

const identityList = (description: string): JsonSchema =>
  strList(
    description,
    str('"*" or "x509.subject: C=US, ST=WA, O=Example, CN=Release".', {
      minLength: 1,
      maxLength: 1024,
    }),
    {
      minItems: 1,
    },
  );

const labelSelector: JsonSchema = {
  type: 'object',
  description:
    'ClusterTrustPolicy only: the namespaces whose workloads this policy applies to (a Kubernetes label selector). Absent = every namespace.',
  additionalProperties: false,
  properties: {
    matchLabels: {
      type: 'object',
      description: 'Labels the namespace must carry, with exactly these values.',
      additionalProperties: { type: 'string', maxLength: 63 },
    },
    matchExpressions: {
      type: 'array',
      description: 'Label requirements; all must hold.',
      maxItems: 64,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'operator'],
        properties: {
          key: str('Label key.', { minLength: 1, maxLength: 317 }),
          operator: str('In, NotIn, Exists or DoesNotExist.', {
            enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'],
          }),
          values: strList('Values for In/NotIn; must be empty for Exists/DoesNotExist.', {
            type: 'string',
            maxLength: 63,
          }),
        },
      },
    },
  },
};

const notaryV1Source: JsonSchema = {
  type: 'object',
  description:
    'A Notary v1 (Docker Content Trust) server. Pin the root with rootKeys or rootCAs, or allow trustOnFirstUse.',
  additionalProperties: false,
  required: ['server'],
  properties: {
    server: str(
      'Base URL of the Notary server: https://notary.example.com (http:// only when written explicitly).',
      {
        minLength: 1,
        maxLength: 2048,
        pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
      },
    ),
    caBundle: str('PEM CA certificates trusted for the server, in addition to the system CAs.', {
      maxLength: BUNDLE_MAX,
    }),
    caBundleRef: resourceKeyRef(
      'ConfigMap/Secret key holding the PEM CA bundle for the server (instead of caBundle).',
    ),
    rootKeys: strList(
      "Pinned repository root keys: PEM certificates, PEM public keys or 64-hex TUF key IDs. A repository's root is trusted when it is signed by one of them.",
      str('PEM certificate, PEM public key, or 64-hex key ID.', {
        minLength: 1,
        maxLength: PEM_MAX,
      }),
      { minItems: 1 },
    ),
    rootCAs: strList(
      "PEM CA certificates that the repositories' x509 root certificates (CN = repository name) must chain to.",
      str('PEM CA certificate(s).', { minLength: 1, maxLength: BUNDLE_MAX }),
      { minItems: 1 },
    ),
    trustOnFirstUse: {
      type: 'boolean',
      description:
        'Trust whatever root the server first presents for a repository (weaker than pinning; explicit opt-in).',
    },
  },
};

const notationSource: JsonSchema = {
  type: 'object',
  description: 'Notation (Notary Project v2) signatures stored in the registry next to the image.',
  additionalProperties: false,
  required: ['trustStore'],
  properties: {
    trustStore: {
      type: 'object',
      description: 'Certificates trusted for Notation signatures.',
      additionalProperties: false,
      properties: {
        ca: pemCertList('Root CA certificates of signing certificate chains (notary.x509 scheme).'),
        signingAuthority: pemCertList(
          'Signing-authority root certificates (notary.x509.signingAuthority scheme).',
        ),
        tsa: pemCertList('Root certificates of RFC 3161 timestamp authorities.'),
        caRef: resourceKeyRef('ConfigMap/Secret key holding more CA certificates (PEM).'),
        tsaRef: resourceKeyRef('ConfigMap/Secret key holding more TSA certificates (PEM).'),
      },
    },
    trustedIdentities: identityList(
      'Signing identities accepted: "x509.subject: C=…, ST=…, O=…" (a subset match of the leaf subject) or "*".',
    ),
    level: str('Notation verification level.', {
      enum: ['strict', 'permissive', 'audit', 'skip'],
      default: 'strict',
    }),
  },
};

/** JSON Schema of `spec` for both kinds. */
export const TRUST_POLICY_SPEC_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Which images this policy covers and what their signatures must satisfy.',
  additionalProperties: false,
  required: ['images'],
  properties: {
    mode: str(
      'enforce (deny), warn (allow with an admission warning) or audit (allow, record in the audit log).',
      {
        enum: ['enforce', 'warn', 'audit'],
        default: 'enforce',
      },
    ),
    namespaceSelector: labelSelector,
    images: strList(
      'Repository globs: * = one path segment, ** = any depth; names without a registry are Docker Hub (nginx = docker.io/library/nginx).',
      str('Repository glob, e.g. myregistry.example.com/myorg/* or localhost:5000/**.', {
        minLength: 1,
        maxLength: 255,
      }),
      { minItems: 1 },
    ),
    requireSignatures: {
      type: 'boolean',
      description:
        'false makes matched images an explicit, logged exception (no signature needed).',
      default: true,
    },
    trustSources: {
      type: 'array',
      description:
        'Where signatures come from; an image passes when ANY source verifies it under all rules of this policy.',
      maxItems: 16,
      items: {
        type: 'object',
        description: 'One trust source: set exactly one of notaryV1 or notation.',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: str(
            'Name of the source, unique within the policy (used in messages and cache keys).',
            {
              minLength: 1,
              maxLength: 63,
            },
          ),
          notaryV1: notaryV1Source,
          notation: notationSource,
        },
      },
    },
    signers: {
      type: 'array',
      description:
        'Signer roles. Notary v1: delegation roles ("releases" = targets/releases, "targets" = the repository key). Notation: roles defined by identities.',
      maxItems: 64,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['role'],
        properties: {
          role: str('Role name: releases, targets, security-team, or a nested a/b.', {
            minLength: 1,
            maxLength: 255,
          }),
          required: {
            type: 'boolean',
            description: 'The image must carry a valid signature of this role.',
            default: false,
          },
          identities: identityList('Notation: the trusted identities that make up this role.'),
        },
      },
    },
    thresholds: {
      type: 'object',
      description:
        'Role name → number of distinct valid key signatures (Notation: distinct identities) required on that role.',
      maxProperties: 64,
      additionalProperties: { type: 'integer', minimum: 1, maximum: 64 },
    },
    allow: {
      type: 'object',
      description: 'Restrictions on what may be admitted.',
      additionalProperties: false,
      properties: {
        paths: strList(
          'Tag patterns that may be admitted at all (* = any run of tag characters, ? = one); digest-only references need some signed tag that matches.',
          str('Tag pattern, e.g. v*.*.*', { minLength: 1, maxLength: 128 }),
          { minItems: 1 },
        ),
        expires: str(
          'Signature age limit (Notation: signing time; Notary v1: role metadata must expire within this window): a number and a unit s, m, h, d, w, e.g. 15d.',
          { pattern: '^([0-9]+[smhdw])+$', maxLength: 64 },
        ),
      },
    },
    migration: {
      type: 'object',
      description: 'DCT → Notation migration.',
      additionalProperties: false,
      properties: {
        notaryV1Until: str(
          'RFC 3339 instant after which Notary v1 signatures no longer count and Notation is required.',
          {
            pattern:
              '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$',
          },
        ),
      },
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });

/** The compiled ajv validator of `spec` (compiled once, at module load). */
export const validateSpecSchema: ValidateFunction<TrustPolicySpec> =
  ajv.compile<TrustPolicySpec>(TRUST_POLICY_SPEC_SCHEMA);
