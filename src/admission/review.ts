// SPDX-License-Identifier: Apache-2.0
// AdmissionReview `admission.k8s.io/v1` in and out. The body is parsed exactly once with
// hand-written guards (JSON.parse dominates the warm path, perf-baseline §1); the reply always
// echoes the request uid (STYLE rule 15).

import { RequestError } from '../core/errors.js';
import { fields, NOT_READ, readProjected, WHOLE, type Projection } from './json-projection.js';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

/** The fields of an AdmissionRequest trustgate uses, shape-checked. */
export interface AdmissionRequestView {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  /** '' when the request is for the main resource. */
  readonly subResource: string;
  /** '' when the apiserver did not send one (e.g. generateName on CREATE). */
  readonly name: string;
  /** '' for cluster-scoped objects. */
  readonly namespace: string;
  readonly operation: AdmissionOperation;
  /** '' when userInfo is absent. */
  readonly username: string;
  readonly dryRun: boolean;
  /**
   * The object being admitted: a plain JSON object for CREATE/UPDATE, `undefined` otherwise.
   * Read through a projection ({@link reviewProjection}), it holds only the members the
   * projection keeps.
   */
  readonly object: Readonly<Record<string, unknown>> | undefined;
}

export interface JsonPatchOperation {
  readonly op: 'replace' | 'add' | 'remove' | 'test';
  readonly path: string;
  readonly value?: unknown;
}

/** What the handler decided; `toAdmissionResponse` turns it into the wire shape. */
export interface AdmissionResult {
  readonly allowed: boolean;
  /** Denial text (required for a denial). */
  readonly message?: string;
  /** HTTP-like status code in `status.code`; 403 for a denial. */
  readonly code?: number;
  /** metav1.StatusReason, e.g. `Forbidden`. */
  readonly reason?: string;
  readonly warnings?: readonly string[];
  readonly patch?: readonly JsonPatchOperation[];
}

export interface AdmissionReviewResponse {
  readonly apiVersion: 'admission.k8s.io/v1';
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly reason?: string; readonly message: string };
    readonly warnings?: readonly string[];
    readonly patchType?: 'JSONPatch';
    /** base64 of the JSON Patch document. */
    readonly patch?: string;
  };
}

const OPERATIONS: ReadonlySet<string> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
/** Kubernetes UIDs are 36 characters; anything much longer is not from an apiserver. */
const MAX_UID_LENGTH = 128;

function bad(message: string): RequestError {
  return new RequestError('BAD_REQUEST', message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(obj: Record<string, unknown>, key: string, where: string): string {
  const v = obj[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw bad(`${where}.${key} must be a string, got ${typeName(v)}`);
  return v;
}

function requiredString(obj: Record<string, unknown>, key: string, where: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0) {
    throw bad(`${where}.${key} must be a non-empty string, got ${typeName(v)}`);
  }
  return v;
}

function typeName(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length === 0 ? 'an empty string' : 'a string';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function parseGvk(v: unknown, where: string): GroupVersionKind {
  if (!isRecord(v))
    throw bad(`${where} must be an object {group, version, kind}, got ${typeName(v)}`);
  return {
    group: optionalString(v, 'group', where),
    version: requiredString(v, 'version', where),
    kind: requiredString(v, 'kind', where),
  };
}

function parseGvr(v: unknown, where: string): GroupVersionResource {
  if (!isRecord(v)) {
    throw bad(`${where} must be an object {group, version, resource}, got ${typeName(v)}`);
  }
  return {
    group: optionalString(v, 'group', where),
    version: requiredString(v, 'version', where),
    resource: requiredString(v, 'resource', where),
  };
}

/**
 * The projection {@link parseAdmissionReview} reads through: the review's own fields in full
 * and, of the admitted object, only what `object` keeps (`request.oldObject` is never read).
 */
export function reviewProjection(object: Projection): Projection {
  const request = fields({
    uid: WHOLE,
    kind: WHOLE,
    resource: WHOLE,
    subResource: WHOLE,
    name: WHOLE,
    namespace: WHOLE,
    operation: WHOLE,
    userInfo: fields({ username: WHOLE }),
    dryRun: WHOLE,
    object,
  });
  return fields({ apiVersion: WHOLE, kind: WHOLE, request });
}

/** The body as JSON: through `projection` when given and the reader takes it, else JSON.parse. */
function parseJson(body: Buffer, projection: Projection | undefined): unknown {
  if (body.length === 0)
    throw bad('request body is empty; expected an AdmissionReview JSON object');
  const doc = projection === undefined ? NOT_READ : readProjected(body, projection);
  if (doc !== NOT_READ) return doc;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    const detail = err instanceof SyntaxError ? `: ${err.message}` : '';
    throw bad(`request body is not valid JSON${detail}`);
  }
}

/**
 * Parse an AdmissionReview request body. // attacker-controlled: anyone who can reach the
 * webhook port can send this.
 * With a `projection` from {@link reviewProjection}, only what it keeps is built (json-projection.ts); the checks below then
 * see the same values, and anything the projecting reader does not take is parsed in full.
 * @throws RequestError BAD_REQUEST — not UTF-8 JSON, not `admission.k8s.io/v1` `AdmissionReview`,
 *   no `request`/`request.uid`, or a field of the wrong type; the message names the field.
 */
export function parseAdmissionReview(body: Buffer, projection?: Projection): AdmissionRequestView {
  const doc = parseJson(body, projection);
  if (!isRecord(doc))
    throw bad(`request body must be a JSON object (AdmissionReview), got ${typeName(doc)}`);
  if (doc['apiVersion'] !== 'admission.k8s.io/v1') {
    throw bad(
      `apiVersion must be "admission.k8s.io/v1", got ${JSON.stringify(doc['apiVersion'] ?? null)}` +
        ' (set admissionReviewVersions: ["v1"] in the webhook configuration)',
    );
  }
  if (doc['kind'] !== 'AdmissionReview') {
    throw bad(`kind must be "AdmissionReview", got ${JSON.stringify(doc['kind'] ?? null)}`);
  }
  const req = doc['request'];
  if (!isRecord(req)) throw bad(`request must be an object, got ${typeName(req)}`);
  const uid = requiredString(req, 'uid', 'request');
  if (uid.length > MAX_UID_LENGTH)
    throw bad(`request.uid is longer than ${MAX_UID_LENGTH} characters`);

  const operation = req['operation'];
  if (typeof operation !== 'string' || !OPERATIONS.has(operation)) {
    throw bad(
      `request.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got ${JSON.stringify(operation ?? null)}`,
    );
  }
  const userInfo = req['userInfo'];
  if (userInfo !== undefined && userInfo !== null && !isRecord(userInfo)) {
    throw bad(`request.userInfo must be an object, got ${typeName(userInfo)}`);
  }
  const dryRun = req['dryRun'];
  if (dryRun !== undefined && dryRun !== null && typeof dryRun !== 'boolean') {
    throw bad(`request.dryRun must be a boolean, got ${typeName(dryRun)}`);
  }
  const object = req['object'];
  const needsObject = operation === 'CREATE' || operation === 'UPDATE';
  if (needsObject && !isRecord(object)) {
    throw bad(`request.object must be an object for ${operation}, got ${typeName(object)}`);
  }

  return {
    uid,
    kind: parseGvk(req['kind'], 'request.kind'),
    resource: parseGvr(req['resource'], 'request.resource'),
    subResource: optionalString(req, 'subResource', 'request'),
    name: optionalString(req, 'name', 'request'),
    namespace: optionalString(req, 'namespace', 'request'),
    operation: operation as AdmissionOperation,
    username: userInfo ? optionalString(userInfo, 'username', 'request.userInfo') : '',
    dryRun: dryRun === true,
    object: needsObject ? (object as Record<string, unknown>) : undefined,
  };
}

/**
 * Build the AdmissionReview reply for `uid`. A denial gets `status.code` (403 unless given)
 * and its message; a patch is base64-encoded JSON Patch.
 */
export function toAdmissionResponse(uid: string, result: AdmissionResult): AdmissionReviewResponse {
  const response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason?: string; message: string };
    warnings?: readonly string[];
    patchType?: 'JSONPatch';
    patch?: string;
  } = { uid, allowed: result.allowed };
  if (!result.allowed || result.message !== undefined) {
    const status: { code: number; reason?: string; message: string } = {
      code: result.code ?? (result.allowed ? 200 : 403),
      message: result.message ?? (result.allowed ? '' : 'denied by trustgate'),
    };
    if (result.reason !== undefined) status.reason = result.reason;
    response.status = status;
  }
  if (result.warnings !== undefined && result.warnings.length > 0)
    response.warnings = result.warnings;
  if (result.allowed && result.patch !== undefined && result.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(result.patch), 'utf8').toString('base64');
  }
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

/** Everything of `JSON.stringify(toAdmissionResponse(uid, …))` before the uid's JSON string. */
const REVIEW_PREFIX =
  '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":';

/**
 * `JSON.stringify(toAdmissionResponse(uid, result))`, byte for byte. The common answer (allowed,
 * no message, warnings or patch) is pasted from constant parts around the uid's JSON string
 * instead of building and serializing three objects per request; every other shape takes
 * JSON.stringify.
 */
export function serializeAdmissionResponse(uid: string, result: AdmissionResult): string {
  if (
    result.allowed &&
    result.message === undefined &&
    (result.warnings === undefined || result.warnings.length === 0) &&
    (result.patch === undefined || result.patch.length === 0)
  ) {
    return REVIEW_PREFIX + JSON.stringify(uid) + ',"allowed":true}}';
  }
  return JSON.stringify(toAdmissionResponse(uid, result));
}
