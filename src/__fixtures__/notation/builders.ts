// SPDX-License-Identifier: Apache-2.0
// Test helpers for Notation: read the byte-exact upstream vectors, load the generated test PKI,
// and sign JWS / COSE envelopes at test time (negative cases, ECDSA, PS512), plus compiled-policy factories.

import { constants, createPrivateKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  CompiledNotationSource,
  CompiledPolicy,
  CompiledSigner,
  NotationLevel,
} from '../../core/policy/types.js';

const ROOT = fileURLToPath(new URL('./', import.meta.url));

/** Bytes of a copied upstream vector, by its `<repo>/<path>` under this directory. */
export function readVector(rel: string): Buffer {
  return readFileSync(`${ROOT}${rel}`);
}

export function vectorCert(rel: string): X509Certificate {
  return new X509Certificate(readVector(rel));
}

export const PINNED_NOW = new Date('2025-06-01T00:00:00Z');

export const MOCK_DIR = 'notation-go/internal/mock/testdata';
export const LAYOUT_DIR = 'notation/test/e2e/testdata/registry/oci_layout';
export const NOTATION_TEST_ROOT =
  'notation-go/verifier/testdata/truststore/x509/ca/valid-trust-store/NotationTestRoot.pem';

/** Target of every `ca_*` / `sa_*` mock envelope (vectors README §1). */
export const MOCK_TARGET = {
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  digest: 'sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e',
  size: 528,
} as const;

/** The image signed in the e2e layouts (vectors README §6). */
export const E2E_TARGET = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9',
  size: 517,
} as const;

export interface GeneratedIdentity {
  readonly cert: X509Certificate;
  readonly key?: KeyObject;
}

/** A certificate (and its key, when committed) from `generated/`. */
export function generated(name: string): GeneratedIdentity {
  const cert = new X509Certificate(readFileSync(`${ROOT}generated/${name}.pem`));
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(readFileSync(`${ROOT}generated/${name}.key`));
  } catch {
    key = undefined;
  }
  return key ? { cert, key } : { cert };
}

type Alg = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';
const HASH: Record<Alg, string> = {
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

export function signBytes(alg: Alg | 'EdDSA', key: KeyObject, data: Buffer): Buffer {
  if (alg === 'EdDSA') return sign(null, data, key);
  if (alg.startsWith('PS')) {
    return sign(HASH[alg], data, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  }
  return sign(HASH[alg], data, { key, dsaEncoding: 'ieee-p1363' });
}

export interface EnvelopeSpec {
  readonly key: KeyObject;
  readonly chain: readonly X509Certificate[];
  readonly alg: Alg;
  /** Signing algorithm actually used (defaults to `alg`): lets a test lie in the header. */
  readonly signWith?: Alg | 'EdDSA';
  readonly scheme?: 'notary.x509' | 'notary.x509.signingAuthority';
  readonly target?: {
    mediaType: string;
    digest: string;
    size: number;
    annotations?: Record<string, string>;
  };
  readonly signingTime?: Date;
  readonly expiry?: Date;
  /** Extra/overriding protected attributes; `undefined` values delete the attribute. */
  readonly protectedExtra?: Record<string, unknown>;
  readonly crit?: readonly string[];
  readonly unprotectedExtra?: Record<string, unknown>;
  /** Replace the payload bytes entirely. */
  readonly rawPayload?: Buffer;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function protectedAttributes(spec: EnvelopeSpec): Record<string, unknown> {
  const scheme = spec.scheme ?? 'notary.x509';
  const crit = spec.crit ?? [
    'io.cncf.notary.signingScheme',
    ...(scheme === 'notary.x509.signingAuthority' ? ['io.cncf.notary.authenticSigningTime'] : []),
    ...(spec.expiry ? ['io.cncf.notary.expiry'] : []),
  ];
  const time = spec.signingTime ?? new Date('2025-01-01T00:00:00Z');
  const attrs: Record<string, unknown> = {
    alg: spec.alg,
    crit,
    cty: 'application/vnd.cncf.notary.payload.v1+json',
    'io.cncf.notary.signingScheme': scheme,
    ...(scheme === 'notary.x509'
      ? { 'io.cncf.notary.signingTime': time }
      : { 'io.cncf.notary.authenticSigningTime': time }),
    ...(spec.expiry && { 'io.cncf.notary.expiry': spec.expiry }),
  };
  for (const [k, v] of Object.entries(spec.protectedExtra ?? {})) {
    if (v === undefined) delete attrs[k];
    else attrs[k] = v;
  }
  return attrs;
}

function payloadBytes(spec: EnvelopeSpec): Buffer {
  return (
    spec.rawPayload ?? Buffer.from(JSON.stringify({ targetArtifact: spec.target ?? E2E_TARGET }))
  );
}

/** A flattened JWS envelope signed now with `spec.key`. */
export function buildJws(spec: EnvelopeSpec): Buffer {
  const attrs = Object.fromEntries(
    Object.entries(protectedAttributes(spec)).map(([k, v]) => [
      k,
      v instanceof Date ? rfc3339(v) : v,
    ]),
  );
  const protectedB64 = Buffer.from(JSON.stringify(attrs)).toString('base64url');
  const payloadB64 = payloadBytes(spec).toString('base64url');
  const signature = signBytes(
    spec.signWith ?? spec.alg,
    spec.key,
    Buffer.from(`${protectedB64}.${payloadB64}`),
  );
  return Buffer.from(
    JSON.stringify({
      payload: payloadB64,
      protected: protectedB64,
      header: {
        x5c: spec.chain.map((c) => c.raw.toString('base64')),
        'io.cncf.notary.signingAgent': 'trustgate-test',
        ...spec.unprotectedExtra,
      },
      signature: signature.toString('base64url'),
    }),
  );
}

// --- a tiny CBOR encoder (tests only) ---

export class Tagged {
  constructor(
    readonly tag: number,
    readonly value: unknown,
  ) {}
}

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

export function encodeCbor(v: unknown): Buffer {
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([head(3, b.length), b]);
  }
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), v]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(encodeCbor)]);
  if (v instanceof Map) {
    return Buffer.concat([
      head(5, v.size),
      ...[...v].flatMap(([k, x]) => [encodeCbor(k), encodeCbor(x)]),
    ]);
  }
  if (v instanceof Tagged) return Buffer.concat([head(6, v.tag), encodeCbor(v.value)]);
  if (v === true) return Buffer.from([0xf5]);
  if (v === false) return Buffer.from([0xf4]);
  if (v === null) return Buffer.from([0xf6]);
  throw new Error(`cannot encode a ${typeof v}`);
}

const COSE_ALG: Record<Alg, number> = {
  PS256: -37,
  PS384: -38,
  PS512: -39,
  ES256: -7,
  ES384: -35,
  ES512: -36,
};

/** A COSE_Sign1_Tagged envelope signed now with `spec.key`. */
export function buildCose(spec: EnvelopeSpec): Buffer {
  const attrs = protectedAttributes(spec);
  const hdr = new Map<number | string, unknown>();
  for (const [k, v] of Object.entries(attrs)) {
    const label = k === 'alg' ? 1 : k === 'crit' ? 2 : k === 'cty' ? 3 : k;
    if (k === 'alg') hdr.set(1, COSE_ALG[v as Alg] ?? v);
    else hdr.set(label, v instanceof Date ? new Tagged(1, Math.floor(v.getTime() / 1000)) : v);
  }
  const protectedBytes = encodeCbor(hdr);
  const payload = payloadBytes(spec);
  const toBeSigned = encodeCbor(['Signature1', protectedBytes, Buffer.alloc(0), payload]);
  const signature = signBytes(spec.signWith ?? spec.alg, spec.key, toBeSigned);
  const unprotected = new Map<number | string, unknown>([[33, spec.chain.map((c) => c.raw)]]);
  for (const [k, v] of Object.entries(spec.unprotectedExtra ?? {})) unprotected.set(k, v);
  return encodeCbor(new Tagged(18, [protectedBytes, unprotected, payload, signature]));
}

// --- compiled policy factories ---

export function notationSource(opts: {
  name?: string;
  ca?: readonly X509Certificate[];
  signingAuthority?: readonly X509Certificate[];
  tsa?: readonly X509Certificate[];
  identities?: CompiledNotationSource['trustedIdentities'];
  level?: NotationLevel;
}): CompiledNotationSource {
  return {
    kind: 'notation',
    name: opts.name ?? 'notation',
    trustStore: {
      ca: opts.ca ?? [],
      signingAuthority: opts.signingAuthority ?? [],
      tsa: opts.tsa ?? [],
    },
    trustedIdentities: opts.identities ?? ['*'],
    level: opts.level ?? 'strict',
    materialHash: 'test',
  };
}

export function identity(dn: Record<string, string>): ReadonlyMap<string, string> {
  return new Map(Object.entries(dn));
}

export function policyWith(opts: {
  sources?: CompiledPolicy['sources'];
  signers?: readonly CompiledSigner[];
  thresholds?: Record<string, number>;
  maxAgeMs?: number;
}): CompiledPolicy {
  return {
    id: 'ClusterTrustPolicy/test',
    kind: 'ClusterTrustPolicy',
    name: 'test',
    generation: '1',
    mode: 'enforce',
    images: ['**'],
    imageMatchers: [/.*/],
    requireSignatures: true,
    sources: opts.sources ?? [notationSource({})],
    signers: opts.signers ?? [],
    thresholds: new Map(Object.entries(opts.thresholds ?? {})),
    ...(opts.maxAgeMs !== undefined && { maxAgeMs: opts.maxAgeMs }),
  };
}
