// SPDX-License-Identifier: Apache-2.0
// TrustPolicy / ClusterTrustPolicy validation: the ajv schema, then semantic checks, reporting
// ALL problems with field paths (`spec.trustSources[0].notaryV1.rootKeys[1]`) and how to fix them.

import type { ErrorObject } from 'ajv';
import type { FieldError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { parseDuration } from './duration.js';
import { compileTagPattern, parseRepositoryGlob } from './glob.js';
import {
  isIdentitySubset,
  parseCertificates,
  parseRootKey,
  parseTrustedIdentity,
} from './material.js';
import { validateSpecSchema, type JsonSchema } from './schema.js';
import type { TrustPolicyResource, TrustPolicySpec } from './types.js';

export const API_VERSION = 'trustgate.dev/v1alpha1';
export const POLICY_KINDS = ['ClusterTrustPolicy', 'TrustPolicy'] as const;

export type PolicyValidationResult =
  | { readonly ok: true; readonly resource: TrustPolicyResource }
  | { readonly ok: false; readonly errors: FieldError[] };

type Json = Record<string, unknown>;

const IDENT = /^[A-Za-z0-9_-]+$/;
const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const ROLE_CHARS = /^[-a-z0-9_/]+$/;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const TOP_LEVEL_ROLES = new Set(['root', 'snapshot', 'timestamp']);
const TOP_LEVEL_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `base.name`, or `base["odd key"]` when the key is not a plain identifier. */
export function toFieldPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (IDENT.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

/**
 * Notary v1 role name of a policy signer: `releases` → `targets/releases`, `targets` → `targets`,
 * `a/b` → `targets/a/b`; a name already under `targets/` is kept.
 */
export function toNotaryRole(role: string): string {
  return role === 'targets' || role.startsWith('targets/') ? role : `targets/${role}`;
}

/** Why a signer role name is invalid (notary's `IsDelegation` rules), or undefined when it is valid. */
export function checkRoleName(role: string): string | undefined {
  if (TOP_LEVEL_ROLES.has(role)) {
    return `${JSON.stringify(role)} is a top-level TUF role, not a signer; use targets or a delegation such as releases`;
  }
  const full = toNotaryRole(role);
  if (!ROLE_CHARS.test(full) || full.split('/').some((s) => s === '')) {
    return `${JSON.stringify(role)} is not a role name; use lowercase letters, digits, "-" and "_", with "/" between nested roles (e.g. releases, security-team, team/qa)`;
  }
  if (full.length > 255) return `${JSON.stringify(role)} is longer than 255 characters`;
  if (full.split('/').length - 1 > LIMITS.maxDelegationDepth) {
    return `${JSON.stringify(role)} is nested deeper than ${LIMITS.maxDelegationDepth} delegation levels`;
  }
  return undefined;
}

/** Parse an RFC 3339 instant strictly (calendar-checked), or undefined. */
export function parseRfc3339(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const probe = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d)
    return undefined;
  if (probe.getUTCHours() !== h || probe.getUTCMinutes() !== mi || probe.getUTCSeconds() !== s)
    return undefined;
  const offset = m[8] as string;
  if (
    offset !== 'Z' &&
    offset !== 'z' &&
    (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4, 6)) > 59)
  ) {
    return undefined;
  }
  return new Date(text.toUpperCase());
}

// ---------------------------------------------------------------------------
// Schema errors → field errors

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a mapping (key: value)',
  array: 'a list',
  string: 'a string',
  integer: 'a whole number',
  boolean: 'true or false',
};

function pointerToPath(base: string, pointer: string, data: unknown): string {
  if (pointer === '') return base;
  let path = base;
  let cur = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      path = toFieldPath(path, Number(seg));
      cur = cur[Number(seg)] as unknown;
    } else {
      path = toFieldPath(path, seg);
      cur = isRecord(cur) ? cur[seg] : undefined;
    }
  }
  return path;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One ajv error → field path and message (exported for tests). */
export function toSchemaFieldError(
  e: ErrorObject,
  spec: unknown,
): { path: string; message: string; keyword: string } {
  const at = pointerToPath('spec', e.instancePath, spec);
  const parent = e.parentSchema as JsonSchema | undefined;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return {
        path: toFieldPath(at, String(p.missingProperty)),
        message: 'is required',
        keyword: e.keyword,
      };
    case 'additionalProperties': {
      const allowed = Object.keys(parent?.properties ?? {}).join(', ');
      return {
        path: toFieldPath(at, String(p.additionalProperty)),
        message: `unknown field; expected one of: ${allowed}`,
        keyword: e.keyword,
      };
    }
    case 'type':
      return {
        path: at,
        message: `must be ${TYPE_NAMES[String(p.type)] ?? String(p.type)}`,
        keyword: e.keyword,
      };
    case 'enum':
      return {
        path: at,
        message: `must be one of: ${(p.allowedValues as unknown[]).join(', ')}`,
        keyword: e.keyword,
      };
    case 'minimum':
      return { path: at, message: `must be at least ${String(p.limit)}`, keyword: e.keyword };
    case 'maximum':
      return { path: at, message: `must be at most ${String(p.limit)}`, keyword: e.keyword };
    case 'minItems':
      return {
        path: at,
        message: `must list at least ${plural(Number(p.limit), 'entry', 'entries')}`,
        keyword: e.keyword,
      };
    case 'maxItems':
      return {
        path: at,
        message: `must list at most ${plural(Number(p.limit), 'entry', 'entries')}`,
        keyword: e.keyword,
      };
    case 'minLength':
      return { path: at, message: 'must not be empty', keyword: e.keyword };
    case 'maxLength':
      return {
        path: at,
        message: `must be at most ${plural(Number(p.limit), 'character', 'characters')} long`,
        keyword: e.keyword,
      };
    case 'maxProperties':
      return {
        path: at,
        message: `must have at most ${plural(Number(p.limit), 'entry', 'entries')}`,
        keyword: e.keyword,
      };
    case 'pattern':
      return {
        path: at,
        message: `${JSON.stringify(e.data)} has the wrong form: ${parent?.description ?? `expected ${String(p.pattern)}`}`,
        keyword: e.keyword,
      };
    default:
      return { path: at, message: e.message ?? 'is invalid', keyword: e.keyword };
  }
}

// ---------------------------------------------------------------------------
// Semantic checks

class Collector {
  readonly errors: FieldError[] = [];
  /** TrustPolicy: the only namespace its ConfigMap/Secret references may name. */
  refNamespace: string | undefined;
  add(path: string, message: string): void {
    this.errors.push({ path, message });
  }
  /** Run a parse that throws ConfigError; record its message at `path`. */
  attempt<T>(path: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      // The parse helpers throw ConfigError with a fix-it message; anything else still becomes a field error.
      this.add(path, (err as Error).message);
      return undefined;
    }
  }
}

function strings(v: unknown): [number, string][] {
  return Array.isArray(v)
    ? v.flatMap((s, i): [number, string][] => (typeof s === 'string' ? [[i, s]] : []))
    : [];
}

function checkSelector(c: Collector, path: string, sel: unknown): void {
  if (!isRecord(sel)) return;
  if (isRecord(sel.matchLabels)) {
    for (const [k, v] of Object.entries(sel.matchLabels)) {
      checkLabelKey(c, toFieldPath(toFieldPath(path, 'matchLabels'), k), k);
      if (typeof v === 'string' && !LABEL_VALUE.test(v)) {
        c.add(
          toFieldPath(toFieldPath(path, 'matchLabels'), k),
          `${JSON.stringify(v)} is not a valid label value (≤ 63 characters: letters, digits, "-", "_", ".")`,
        );
      }
    }
  }
  if (Array.isArray(sel.matchExpressions)) {
    sel.matchExpressions.forEach((req: unknown, i) => {
      if (!isRecord(req)) return;
      const at = toFieldPath(toFieldPath(path, 'matchExpressions'), i);
      if (typeof req.key === 'string') checkLabelKey(c, toFieldPath(at, 'key'), req.key);
      const values = Array.isArray(req.values) ? req.values : [];
      if ((req.operator === 'In' || req.operator === 'NotIn') && values.length === 0) {
        c.add(toFieldPath(at, 'values'), `operator ${req.operator} needs at least one value`);
      }
      if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && values.length > 0) {
        c.add(toFieldPath(at, 'values'), `must be empty for operator ${req.operator}`);
      }
    });
  }
}

function checkLabelKey(c: Collector, path: string, key: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = key.slice(slash + 1);
  if (
    (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) ||
    !LABEL_NAME.test(name)
  ) {
    c.add(
      path,
      `${JSON.stringify(key)} is not a valid label key ([prefix/]name, name ≤ 63 characters)`,
    );
  }
}

function checkRef(c: Collector, path: string, ref: unknown): void {
  if (!isRecord(ref)) return;
  const policyNamespace = c.refNamespace;
  // A TrustPolicy must not make trustgate read another namespace's Secrets on its behalf.
  if (
    policyNamespace !== undefined &&
    ref.namespace !== undefined &&
    ref.namespace !== policyNamespace
  ) {
    c.add(
      toFieldPath(path, 'namespace'),
      `a TrustPolicy may refer only to its own namespace (${policyNamespace}); remove namespace`,
    );
  }
  const hasConfigMap = ref.configMap !== undefined;
  const hasSecret = ref.secret !== undefined;
  if (hasConfigMap === hasSecret) c.add(path, 'name exactly one of configMap or secret');
  if (typeof ref.namespace === 'string' && !DNS1123_LABEL.test(ref.namespace)) {
    c.add(
      toFieldPath(path, 'namespace'),
      `${JSON.stringify(ref.namespace)} is not a valid namespace name`,
    );
  }
}

function checkPemCerts(c: Collector, path: string, value: unknown, requireCa: boolean): void {
  for (const [i, text] of strings(value))
    c.attempt(toFieldPath(path, i), () => parseCertificates(text, requireCa));
}

function checkServer(c: Collector, path: string, server: unknown): void {
  if (typeof server !== 'string') return;
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    c.add(path, `${JSON.stringify(server)} is not a URL; write e.g. https://notary.example.com`);
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    c.add(path, `must be an http(s) URL, got scheme ${JSON.stringify(url.protocol.slice(0, -1))}`);
  } else if (url.username !== '' || url.password !== '') {
    c.add(path, 'must not contain credentials; remove user:password@ from the URL');
  } else if (url.search !== '' || url.hash !== '') {
    c.add(path, 'must not have a query or fragment; give the server base URL');
  }
}

function checkNotaryV1(c: Collector, path: string, src: Json): void {
  checkServer(c, toFieldPath(path, 'server'), src.server);
  if (src.caBundle !== undefined && src.caBundleRef !== undefined) {
    c.add(toFieldPath(path, 'caBundleRef'), 'set caBundle or caBundleRef, not both');
  }
  if (typeof src.caBundle === 'string')
    c.attempt(toFieldPath(path, 'caBundle'), () => parseCertificates(src.caBundle as string));
  checkRef(c, toFieldPath(path, 'caBundleRef'), src.caBundleRef);
  const seen = new Map<string, number>();
  for (const [i, text] of strings(src.rootKeys)) {
    const at = toFieldPath(toFieldPath(path, 'rootKeys'), i);
    const key = c.attempt(at, () => parseRootKey(text));
    if (!key) continue;
    const identity =
      key.kind === 'keyId'
        ? key.id
        : key.kind === 'certificate'
          ? key.fingerprint
          : key.key.export({ type: 'spki', format: 'der' }).toString('hex');
    const first = seen.get(identity);
    if (first !== undefined) c.add(at, `duplicates rootKeys[${first}]; remove one`);
    else seen.set(identity, i);
  }
  checkPemCerts(c, toFieldPath(path, 'rootCAs'), src.rootCAs, true);
  const pinned = Array.isArray(src.rootKeys) || Array.isArray(src.rootCAs);
  if (!pinned && src.trustOnFirstUse !== true) {
    c.add(
      path,
      'has no root of trust; add rootKeys (root certificate or key ID), rootCAs, or set trustOnFirstUse: true explicitly',
    );
  }
}

function checkIdentities(c: Collector, path: string, value: unknown): void {
  const parsed: [number, ReadonlyMap<string, string> | '*'][] = [];
  for (const [i, text] of strings(value)) {
    const id = c.attempt(toFieldPath(path, i), () => parseTrustedIdentity(text));
    if (id !== undefined) parsed.push([i, id]);
  }
  if (parsed.length > 1 && parsed.some(([, id]) => id === '*')) {
    c.add(path, '"*" must be the only identity when it is used');
    return;
  }
  for (const [i, a] of parsed) {
    for (const [j, b] of parsed) {
      if (j <= i || a === '*' || b === '*') continue;
      if (isIdentitySubset(a, b) || isIdentitySubset(b, a)) {
        c.add(
          toFieldPath(path, j),
          `overlaps entry [${i}] (one is a subset of the other); remove one`,
        );
      }
    }
  }
}

function checkNotation(c: Collector, path: string, src: Json): void {
  const store = isRecord(src.trustStore) ? src.trustStore : {};
  const storePath = toFieldPath(path, 'trustStore');
  checkPemCerts(c, toFieldPath(storePath, 'ca'), store.ca, true);
  checkPemCerts(c, toFieldPath(storePath, 'signingAuthority'), store.signingAuthority, true);
  checkPemCerts(c, toFieldPath(storePath, 'tsa'), store.tsa, true);
  checkRef(c, toFieldPath(storePath, 'caRef'), store.caRef);
  checkRef(c, toFieldPath(storePath, 'tsaRef'), store.tsaRef);
  checkIdentities(c, toFieldPath(path, 'trustedIdentities'), src.trustedIdentities);
  // notation-go: `skip` takes no trust material; every other level needs a store and identities.
  if (src.level === 'skip') {
    if (src.trustedIdentities !== undefined)
      c.add(toFieldPath(path, 'trustedIdentities'), 'must be absent when level is skip');
    return;
  }
  const anyStore = ['ca', 'signingAuthority', 'caRef'].some((k) => store[k] !== undefined);
  if (isRecord(src.trustStore) && !anyStore) {
    c.add(
      storePath,
      'needs ca, signingAuthority or caRef certificates to verify signatures against',
    );
  }
  if (src.trustedIdentities === undefined) {
    c.add(
      toFieldPath(path, 'trustedIdentities'),
      'is required (unless level is skip); list "x509.subject: C=…, ST=…, O=…" or "*"',
    );
  }
}

function checkTrustSources(c: Collector, spec: Json): { notation: boolean; notaryV1: boolean } {
  const kinds = { notation: false, notaryV1: false };
  if (!Array.isArray(spec.trustSources)) return kinds;
  const names = new Map<string, number>();
  spec.trustSources.forEach((src: unknown, i) => {
    if (!isRecord(src)) return;
    const at = toFieldPath('spec.trustSources', i);
    if (typeof src.name === 'string') {
      if (!DNS1123_LABEL.test(src.name)) {
        c.add(
          toFieldPath(at, 'name'),
          `${JSON.stringify(src.name)} is not a valid name; use lowercase letters, digits and "-" (e.g. dct, notation)`,
        );
      }
      const first = names.get(src.name);
      if (first !== undefined)
        c.add(
          toFieldPath(at, 'name'),
          `duplicates spec.trustSources[${first}].name; names must be unique`,
        );
      else names.set(src.name, i);
    }
    const isNotary = isRecord(src.notaryV1);
    const isNotation = isRecord(src.notation);
    if (src.notaryV1 !== undefined && src.notation !== undefined)
      c.add(at, 'set exactly one of notaryV1 or notation, not both');
    else if (src.notaryV1 === undefined && src.notation === undefined)
      c.add(at, 'set exactly one of notaryV1 or notation');
    if (isNotary) checkNotaryV1(c, toFieldPath(at, 'notaryV1'), src.notaryV1 as Json);
    if (isNotation) checkNotation(c, toFieldPath(at, 'notation'), src.notation as Json);
    kinds.notaryV1 ||= isNotary;
    kinds.notation ||= isNotation;
  });
  return kinds;
}

function checkSigners(c: Collector, spec: Json): void {
  if (Array.isArray(spec.signers)) {
    const roles = new Map<string, number>();
    spec.signers.forEach((s: unknown, i) => {
      if (!isRecord(s)) return;
      const at = toFieldPath('spec.signers', i);
      if (typeof s.role === 'string') {
        const problem = checkRoleName(s.role);
        if (problem) c.add(toFieldPath(at, 'role'), problem);
        const full = toNotaryRole(s.role);
        const first = roles.get(full);
        if (first !== undefined)
          c.add(
            toFieldPath(at, 'role'),
            `duplicates spec.signers[${first}] (both are ${full}); list each signer once`,
          );
        else roles.set(full, i);
      }
      checkIdentities(c, toFieldPath(at, 'identities'), s.identities);
    });
  }
  if (isRecord(spec.thresholds)) {
    const roles = new Map<string, string>();
    for (const role of Object.keys(spec.thresholds)) {
      const at = toFieldPath('spec.thresholds', role);
      const problem = checkRoleName(role);
      if (problem) c.add(at, problem);
      const full = toNotaryRole(role);
      const first = roles.get(full);
      if (first !== undefined)
        c.add(at, `names the same role as ${JSON.stringify(first)} (${full}); keep one`);
      else roles.set(full, role);
    }
  }
}

function checkSpec(c: Collector, spec: Json, kind: string): void {
  if (spec.namespaceSelector !== undefined && kind === 'TrustPolicy') {
    c.add(
      'spec.namespaceSelector',
      'only a ClusterTrustPolicy takes a namespaceSelector; a TrustPolicy applies to its own namespace',
    );
  }
  checkSelector(c, 'spec.namespaceSelector', spec.namespaceSelector);

  const globs = new Map<string, number>();
  for (const [i, glob] of strings(spec.images)) {
    const parsed = c.attempt(toFieldPath('spec.images', i), () => parseRepositoryGlob(glob));
    if (!parsed) continue;
    const first = globs.get(parsed.normalized);
    if (first !== undefined)
      c.add(
        toFieldPath('spec.images', i),
        `duplicates spec.images[${first}] (both mean ${parsed.normalized})`,
      );
    else globs.set(parsed.normalized, i);
  }

  const kinds = checkTrustSources(c, spec);
  const requireSignatures = spec.requireSignatures !== false;
  const sources = Array.isArray(spec.trustSources) ? spec.trustSources.length : 0;
  if (requireSignatures && sources === 0) {
    c.add(
      'spec.trustSources',
      'requireSignatures is true (the default), so at least one trust source is needed; add one or set requireSignatures: false',
    );
  }
  checkSigners(c, spec);

  if (isRecord(spec.allow)) {
    for (const [i, p] of strings(spec.allow.paths))
      c.attempt(toFieldPath('spec.allow.paths', i), () => compileTagPattern(p));
    if (typeof spec.allow.expires === 'string') {
      const text = spec.allow.expires;
      c.attempt('spec.allow.expires', () => parseDuration(text));
    }
  }
  if (isRecord(spec.migration) && typeof spec.migration.notaryV1Until === 'string') {
    const until = spec.migration.notaryV1Until;
    if (!parseRfc3339(until)) {
      c.add(
        'spec.migration.notaryV1Until',
        `${JSON.stringify(until)} is not an RFC 3339 instant; write e.g. 2027-03-01T00:00:00Z`,
      );
    } else if (kinds.notaryV1 && !kinds.notation) {
      c.add(
        'spec.migration.notaryV1Until',
        'after this date only Notation signatures count, but the policy has no notation trust source; add one',
      );
    }
  }
}

function checkMetadata(c: Collector, doc: Json, kind: unknown): void {
  const md = doc.metadata;
  if (!isRecord(md)) {
    c.add(
      'metadata',
      md === undefined ? 'is required (with at least a name)' : 'must be a mapping (key: value)',
    );
    return;
  }
  if (typeof md.name !== 'string' || md.name === '') c.add('metadata.name', 'is required');
  else if (md.name.length > 253 || !DNS1123_SUBDOMAIN.test(md.name)) {
    c.add(
      'metadata.name',
      `${JSON.stringify(md.name)} is not a valid name; use lowercase letters, digits, "-" and "."`,
    );
  }
  if (kind === 'TrustPolicy') {
    if (typeof md.namespace !== 'string' || md.namespace === '') {
      c.add(
        'metadata.namespace',
        'is required for a TrustPolicy (it applies to workloads in that namespace)',
      );
    } else if (!DNS1123_LABEL.test(md.namespace)) {
      c.add('metadata.namespace', `${JSON.stringify(md.namespace)} is not a valid namespace name`);
    }
  } else if (kind === 'ClusterTrustPolicy' && md.namespace !== undefined) {
    c.add(
      'metadata.namespace',
      'a ClusterTrustPolicy is cluster-scoped; remove metadata.namespace or use kind TrustPolicy',
    );
  }
  for (const f of ['uid', 'resourceVersion'] as const) {
    if (md[f] !== undefined && typeof md[f] !== 'string')
      c.add(`metadata.${f}`, 'must be a string');
  }
  if (md.generation !== undefined && !Number.isSafeInteger(md.generation))
    c.add('metadata.generation', 'must be a whole number');
  if (
    md.labels !== undefined &&
    (!isRecord(md.labels) || Object.values(md.labels).some((v) => typeof v !== 'string'))
  ) {
    c.add('metadata.labels', 'must map label keys to string values');
  }
}

function pickMetadata(md: Json): TrustPolicyResource['metadata'] {
  return {
    name: md.name as string,
    ...(typeof md.namespace === 'string' ? { namespace: md.namespace } : {}),
    ...(typeof md.uid === 'string' ? { uid: md.uid } : {}),
    ...(typeof md.resourceVersion === 'string' ? { resourceVersion: md.resourceVersion } : {}),
    ...(typeof md.generation === 'number' ? { generation: md.generation } : {}),
    ...(isRecord(md.labels) ? { labels: { ...(md.labels as Record<string, string>) } } : {}),
  };
}

function isAtOrUnder(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`);
}

/**
 * Validate a parsed TrustPolicy / ClusterTrustPolicy document: schema, then semantic checks.
 * Reports every problem found, each with a field path and a message saying how to fix it.
 * Never throws for bad input.
 */
export function validatePolicyResource(doc: unknown): PolicyValidationResult {
  if (!isRecord(doc)) {
    return {
      ok: false,
      errors: [
        {
          path: '',
          message: 'a policy must be a mapping with apiVersion, kind, metadata and spec',
        },
      ],
    };
  }
  const c = new Collector();
  if (doc.apiVersion !== API_VERSION) {
    c.add('apiVersion', `must be ${API_VERSION}, got ${JSON.stringify(doc.apiVersion ?? null)}`);
  }
  const kind = doc.kind;
  if (!POLICY_KINDS.includes(kind as (typeof POLICY_KINDS)[number])) {
    c.add('kind', `must be ClusterTrustPolicy or TrustPolicy, got ${JSON.stringify(kind ?? null)}`);
  }
  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL_FIELDS.has(key))
      c.add(
        toFieldPath('', key),
        'unknown field; expected apiVersion, kind, metadata, spec (and status)',
      );
  }
  checkMetadata(c, doc, kind);
  if (
    kind === 'TrustPolicy' &&
    isRecord(doc.metadata) &&
    typeof doc.metadata.namespace === 'string'
  ) {
    c.refNamespace = doc.metadata.namespace;
  }

  const spec = doc.spec;
  const schemaErrors: { path: string; message: string; keyword: string }[] = [];
  if (spec === undefined) {
    c.add('spec', 'is required');
  } else if (!validateSpecSchema(spec)) {
    for (const e of validateSpecSchema.errors as ErrorObject[])
      schemaErrors.push(toSchemaFieldError(e, spec));
  }
  if (isRecord(spec)) checkSpec(c, spec, String(kind));

  // A semantic message is more precise than a schema `pattern` failure on the same field; a
  // structural schema error (wrong type, unknown field) makes checks below that path moot.
  const semanticPaths = new Set(c.errors.map((e) => e.path));
  const structural = schemaErrors.filter(
    (e) => e.keyword !== 'pattern' && e.keyword !== 'required',
  );
  const merged: FieldError[] = [
    ...c.errors.filter(
      (e) => !e.path.startsWith('spec') || !structural.some((s) => isAtOrUnder(e.path, s.path)),
    ),
    ...schemaErrors
      .filter((e) => !(e.keyword === 'pattern' && semanticPaths.has(e.path)))
      .map(({ path, message }) => ({ path, message })),
  ];
  if (merged.length > 0) return { ok: false, errors: merged };
  return {
    ok: true,
    resource: {
      apiVersion: API_VERSION,
      kind: kind as TrustPolicyResource['kind'],
      metadata: pickMetadata(doc.metadata as Json),
      spec: structuredClone(spec) as TrustPolicySpec,
    },
  };
}
