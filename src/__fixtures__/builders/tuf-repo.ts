// SPDX-License-Identifier: Apache-2.0
// Test-time builders for Notary v1 (TUF) repositories signed with node:crypto, X.509 root
// certificates built in DER by hand (any dates, CA flag, SHA-1, small RSA), and a fake metadata port.

import { createHash, generateKeyPairSync, sign, constants, type KeyObject } from 'node:crypto';
import { canonicalize } from '../../core/crypto/canonical-json.js';
import { computeKeyId, type TufKeyType } from '../../core/crypto/keys.js';
import { InconclusiveError } from '../../core/errors.js';
import type { NotaryMetadataSource, NotaryRoleRequest } from '../../verify/ports.js';
import {
  TrustedSet,
  type MetaExpectation,
  type TrustAnchor,
  type TrustedState,
} from '../../core/notary/trusted-set.js';
import type { VerifiedRepository } from '../../core/notary/types.js';
import { derInteger, derOid, derSequence, derTime, derTlv } from '../../tls/der.js';

// -------------------------------------------------------------------------------------------
// X.509 certificates written with the dev-certificate DER encoder (src/tls/der.ts): openssl 3.0
// on this machine cannot set notBefore, and tests need arbitrary validity windows.

const tlv = (tag: number, ...content: Buffer[]): Buffer => derTlv(tag, Buffer.concat(content));
const seq = derSequence;
const oid = derOid;
const derInt = (n: number): Buffer => derInteger(n);
const name = (cn: string): Buffer =>
  seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));

export interface CertOptions {
  readonly cn: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ca?: boolean;
  /** Sign with SHA-1 instead of SHA-256. */
  readonly sha1?: boolean;
  /** Issuer certificate and key; self-signed when absent. */
  readonly issuer?: { readonly cn: string; readonly key: KeyObject };
  readonly serial?: number;
}

/** A DER X.509 v3 certificate for `publicKey`, signed by `signingKey` (EC or RSA), as PEM. */
export function makeCertificate(
  publicKey: KeyObject,
  signingKey: KeyObject,
  o: CertOptions,
): string {
  const isRsa = signingKey.asymmetricKeyType === 'rsa';
  const hash = o.sha1 ? 'sha1' : 'sha256';
  const alg = isRsa
    ? seq(oid(o.sha1 ? '1.2.840.113549.1.1.5' : '1.2.840.113549.1.1.11'), tlv(0x05))
    : seq(oid(o.sha1 ? '1.2.840.10045.4.1' : '1.2.840.10045.4.3.2'));
  const basicConstraints = seq(
    oid('2.5.29.19'),
    tlv(0x01, Buffer.from([0xff])),
    tlv(0x04, o.ca ? seq(tlv(0x01, Buffer.from([0xff]))) : seq()),
  );
  const extensions = [basicConstraints];
  if (o.ca)
    extensions.push(
      seq(
        oid('2.5.29.15'),
        tlv(0x01, Buffer.from([0xff])),
        tlv(0x04, tlv(0x03, Buffer.from([0x01, 0x06]))),
      ),
    );
  const tbs = seq(
    tlv(0xa0, derInt(2)),
    derInt(o.serial ?? 1),
    alg,
    name(o.issuer?.cn ?? o.cn),
    seq(derTime(o.notBefore), derTime(o.notAfter)),
    name(o.cn),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...extensions)),
  );
  const sig = sign(hash, tbs, signingKey);
  const der = seq(tbs, alg, tlv(0x03, Buffer.from([0]), sig));
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

// -------------------------------------------------------------------------------------------
// Keys

export type KeyKind = 'ecdsa' | 'ed25519' | 'rsa';

export interface TestKey {
  readonly keyType: TufKeyType;
  readonly publicValue: string;
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly method: string;
  /** PEM of the certificate, for x509 key types. */
  readonly certPem?: string;
}

const pairs = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }[]>();

/** A key pair of `kind`; `index` picks a cached pair so tests can share expensive RSA keys. */
export function keyPair(
  kind: KeyKind,
  index: number,
  bits = 2048,
): { privateKey: KeyObject; publicKey: KeyObject } {
  const cacheKey = `${kind}/${bits}`;
  const list = pairs.get(cacheKey) ?? [];
  pairs.set(cacheKey, list);
  while (list.length <= index) {
    list.push(
      kind === 'ecdsa'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : kind === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('rsa', { modulusLength: bits }),
    );
  }
  return list[index]!;
}

function methodFor(kind: KeyKind): string {
  return kind === 'ecdsa' ? 'ecdsa' : kind === 'ed25519' ? 'eddsa' : 'rsapss';
}

/** A TUF key with a bare public key (`ecdsa`/`rsa`: SPKI DER; `ed25519`: raw 32 bytes). */
export function tufKey(kind: KeyKind, index = 0, bits = 2048): TestKey {
  const { privateKey, publicKey } = keyPair(kind, index, bits);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const publicValue = (kind === 'ed25519' ? der.subarray(der.length - 32) : der).toString('base64');
  const keyType = kind as TufKeyType;
  return {
    keyType,
    publicValue,
    keyId: computeKeyId(keyType, publicValue),
    privateKey,
    publicKey,
    method: methodFor(kind),
  };
}

/** A TUF x509 key (`ecdsa-x509`/`rsa-x509`): base64 of a certificate PEM, as notary writes root keys. */
export function x509Key(
  kind: 'ecdsa' | 'rsa',
  index: number,
  cert: Omit<CertOptions, 'issuer'> & { issuer?: CertOptions['issuer'] },
  bits = 2048,
): TestKey {
  const { privateKey, publicKey } = keyPair(kind, index, bits);
  const certPem = makeCertificate(publicKey, cert.issuer?.key ?? privateKey, cert);
  const publicValue = Buffer.from(certPem).toString('base64');
  const keyType = `${kind}-x509` as TufKeyType;
  return {
    keyType,
    publicValue,
    keyId: computeKeyId(keyType, publicValue),
    privateKey,
    publicKey,
    method: methodFor(kind),
    certPem,
  };
}

/** Sign canonical bytes as notary does for the key's method. */
export function tufSign(key: TestKey, message: Buffer): Buffer {
  if (key.method === 'ecdsa')
    return sign('sha256', message, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  if (key.method === 'eddsa') return sign(null, message, key.privateKey);
  return sign('sha256', message, {
    key: key.privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  });
}

const keyJson = (k: TestKey): object => ({
  keytype: k.keyType,
  keyval: { private: null, public: k.publicValue },
});

/** Go json.Marshal HTML-escapes these inside the embedded `signed` RawMessage (notes §3.2). */
function htmlEscape(s: string): string {
  return s.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/**
 * Envelope bytes as notary serves them: `{"signed":<canonical>,"signatures":[{keyid,method,sig}]}`.
 * `signers` sign; `badSigners` add signatures over other bytes (invalid).
 */
export function envelope(
  signed: object,
  signers: readonly TestKey[],
  opts: { badSigners?: readonly TestKey[]; html?: boolean } = {},
): Buffer {
  const canonical = canonicalize(signed);
  const sigs = signers.map((k) => ({
    keyid: k.keyId,
    method: k.method,
    sig: tufSign(k, canonical).toString('base64'),
  }));
  for (const k of opts.badSigners ?? []) {
    sigs.push({
      keyid: k.keyId,
      method: k.method,
      sig: tufSign(k, Buffer.from('not the signed bytes')).toString('base64'),
    });
  }
  const body = canonical.toString('utf8');
  return Buffer.from(
    `{"signed":${opts.html ? htmlEscape(body) : body},"signatures":${JSON.stringify(sigs)}}`,
  );
}

// -------------------------------------------------------------------------------------------
// Repositories

export interface TargetSpec {
  readonly digest: string;
  readonly length?: number;
  readonly sha512?: boolean;
  readonly custom?: unknown;
}

export interface RoleOptions {
  keys: TestKey[];
  threshold: number;
  version: number;
  expires: Date;
  /** Keys that sign (default `keys`). */
  signers?: TestKey[];
  badSigners?: TestKey[];
}

export interface DelegationSpec extends RoleOptions {
  readonly name: string;
  /** undefined → no `paths` key at all. */
  paths?: string[] | undefined;
  targets: Record<string, TargetSpec>;
  /** Leave the role out of the snapshot meta. */
  omitFromSnapshot?: boolean;
  /** Serve no file for it. */
  omitFile?: boolean;
}

export const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const b64hash = (alg: 'sha256' | 'sha512', b: Uint8Array): string =>
  createHash(alg).update(b).digest('base64');
const rfc3339 = (d: Date): string => d.toISOString().replace('.000Z', 'Z');

/** A digest for tests: sha256 of a label. */
export function digestOf(label: string): string {
  return `sha256:${sha256hex(Buffer.from(label))}`;
}

const DAY = 24 * 3600 * 1000;

/**
 * A mutable Notary v1 repository. Change fields, then {@link publish} to get the served files
 * (`root.json`, `<N>.root.json`, `<role>.json`, `<role>.<sha256>.json`).
 */
export class TufRepo {
  readonly gun: string;
  readonly now: Date;
  root: RoleOptions;
  rootHistory: Buffer[] = [];
  timestamp: RoleOptions;
  snapshot: RoleOptions;
  targets: RoleOptions;
  targetFiles: Record<string, TargetSpec>;
  delegations: DelegationSpec[] = [];
  /** Extra keys in root `keys` (e.g. rotated-out root certificates, notes pitfall 16). */
  extraRootKeys: TestKey[] = [];
  /** Mutate a role's `signed` object before it is signed. */
  mutate: Record<string, (signed: Record<string, unknown>) => void> = {};
  /** Replace served bytes after hashing (tampering). */
  serveOverride: Record<string, Buffer | null> = {};
  /** HTML-escape `<>&` in served targets files like Go's json.Marshal. */
  htmlEscape = false;
  /** Drop the root entry from the snapshot meta. */
  snapshotWithoutRoot = false;

  constructor(opts: {
    gun: string;
    now: Date;
    rootKey?: TestKey;
    kinds?: { targets?: KeyKind; snapshot?: KeyKind; timestamp?: KeyKind };
  }) {
    this.gun = opts.gun;
    this.now = opts.now;
    const t = opts.now.getTime();
    const rootKey =
      opts.rootKey ??
      x509Key('ecdsa', 0, {
        cn: opts.gun,
        notBefore: new Date(t - 30 * DAY),
        notAfter: new Date(t + 3650 * DAY),
      });
    this.root = { keys: [rootKey], threshold: 1, version: 1, expires: new Date(t + 3650 * DAY) };
    this.targets = {
      keys: [tufKey(opts.kinds?.targets ?? 'ecdsa', 1)],
      threshold: 1,
      version: 2,
      expires: new Date(t + 1095 * DAY),
    };
    this.snapshot = {
      keys: [tufKey(opts.kinds?.snapshot ?? 'ecdsa', 2)],
      threshold: 1,
      version: 2,
      expires: new Date(t + 1095 * DAY),
    };
    this.timestamp = {
      keys: [tufKey(opts.kinds?.timestamp ?? 'ed25519', 0)],
      threshold: 1,
      version: 1,
      expires: new Date(t + 14 * DAY),
    };
    this.targetFiles = { 'v1.0': { digest: digestOf('v1.0'), length: 1234 } };
    this.rootHistory.push(this.signRoot());
  }

  private rootSigned(): Record<string, unknown> {
    const keys: Record<string, object> = {};
    for (const k of [
      ...this.extraRootKeys,
      ...this.root.keys,
      ...this.targets.keys,
      ...this.snapshot.keys,
      ...this.timestamp.keys,
    ])
      keys[k.keyId] = keyJson(k);
    const role = (r: RoleOptions): object => ({
      keyids: r.keys.map((k) => k.keyId),
      threshold: r.threshold,
    });
    const signed: Record<string, unknown> = {
      _type: 'Root',
      consistent_snapshot: false,
      expires: rfc3339(this.root.expires),
      keys,
      roles: {
        root: role(this.root),
        snapshot: role(this.snapshot),
        targets: role(this.targets),
        timestamp: role(this.timestamp),
      },
      version: this.root.version,
    };
    this.mutate['root']?.(signed);
    return signed;
  }

  /** Sign the current root (with `extraSigners`, e.g. the previous root keys during a rotation). */
  signRoot(extraSigners: readonly TestKey[] = []): Buffer {
    const signers = [...(this.root.signers ?? this.root.keys), ...extraSigners];
    return envelope(this.rootSigned(), signers, {
      ...(this.root.badSigners ? { badSigners: this.root.badSigners } : {}),
    });
  }

  /**
   * Rotate the root role to `newKeys` (version + 1), signed by the new keys and, unless
   * `signWithOld` is false, by the old ones too (notary keeps old certs in `keys`).
   */
  rotateRoot(
    newKeys: TestKey[],
    opts: { signWithOld?: boolean; keepOldInKeys?: boolean } = {},
  ): void {
    const old = this.root.keys;
    if (opts.keepOldInKeys !== false)
      this.extraRootKeys.push(...old.filter((k) => !newKeys.includes(k)));
    this.root = { ...this.root, keys: newKeys, version: this.root.version + 1, signers: newKeys };
    this.rootHistory.push(this.signRoot(opts.signWithOld === false ? [] : old));
  }

  /** Re-sign the current root version in place (after changing role keys without a rotation). */
  resignRoot(extraSigners: readonly TestKey[] = []): void {
    this.rootHistory[this.rootHistory.length - 1] = this.signRoot(extraSigners);
  }

  /** Add a delegation (`keys` sign; paths default to all). */
  delegate(
    name: string,
    keys: TestKey[],
    targets: Record<string, TargetSpec>,
    more: Partial<DelegationSpec> = {},
  ): DelegationSpec {
    const d: DelegationSpec = {
      name,
      keys,
      threshold: 1,
      version: 1,
      expires: new Date(this.now.getTime() + 1095 * DAY),
      paths: [''],
      targets,
      ...more,
    };
    this.delegations.push(d);
    return d;
  }

  private targetsSigned(
    roleName: string,
    opts: RoleOptions,
    files: Record<string, TargetSpec>,
  ): Record<string, unknown> {
    const targets: Record<string, object> = {};
    for (const [tag, t] of Object.entries(files)) {
      const hex = t.digest.replace(/^sha256:/, '');
      targets[tag] = {
        hashes: {
          sha256: Buffer.from(hex, 'hex').toString('base64'),
          ...(t.sha512 ? { sha512: createHash('sha512').update(hex).digest('base64') } : {}),
        },
        length: t.length ?? 1000,
        ...(t.custom !== undefined ? { custom: t.custom } : {}),
      };
    }
    const children = this.delegations.filter(
      (d) => d.name.slice(0, d.name.lastIndexOf('/')) === roleName,
    );
    const keys: Record<string, object> = {};
    for (const d of children) for (const k of d.keys) keys[k.keyId] = keyJson(k);
    const signed: Record<string, unknown> = {
      _type: 'Targets',
      delegations: {
        keys,
        roles: children.map((d) => ({
          keyids: d.keys.map((k) => k.keyId),
          name: d.name,
          ...(d.paths ? { paths: d.paths } : {}),
          threshold: d.threshold,
        })),
      },
      expires: rfc3339(opts.expires),
      targets,
      version: opts.version,
    };
    this.mutate[roleName]?.(signed);
    return signed;
  }

  private signRole(signed: Record<string, unknown>, opts: RoleOptions): Buffer {
    return envelope(signed, opts.signers ?? opts.keys, {
      ...(opts.badSigners ? { badSigners: opts.badSigners } : {}),
      html: this.htmlEscape,
    });
  }

  /** All served files by path. */
  publish(): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    const put = (role: string, bytes: Buffer, consistent = true): void => {
      files.set(`${role}.json`, bytes);
      if (consistent) files.set(`${role}.${sha256hex(bytes)}.json`, bytes);
    };
    this.rootHistory.forEach((b, i) => files.set(`${i + 1}.root.json`, b));
    const root = this.rootHistory[this.rootHistory.length - 1]!;
    put('root', root);
    const meta: Record<string, object> = {};
    const metaOf = (b: Buffer): object => ({
      hashes: { sha256: b64hash('sha256', b), sha512: b64hash('sha512', b) },
      length: b.length,
    });
    if (!this.snapshotWithoutRoot) meta['root'] = metaOf(root);
    const targets = this.signRole(
      this.targetsSigned('targets', this.targets, this.targetFiles),
      this.targets,
    );
    put('targets', targets);
    meta['targets'] = metaOf(targets);
    for (const d of this.delegations) {
      const bytes = this.signRole(this.targetsSigned(d.name, d, d.targets), d);
      if (!d.omitFile) put(d.name, bytes);
      if (!d.omitFromSnapshot) meta[d.name] = metaOf(bytes);
    }
    const snapSigned: Record<string, unknown> = {
      _type: 'Snapshot',
      expires: rfc3339(this.snapshot.expires),
      meta,
      version: this.snapshot.version,
    };
    this.mutate['snapshot']?.(snapSigned);
    const snapshot = this.signRole(snapSigned, this.snapshot);
    put('snapshot', snapshot);
    const tsSigned: Record<string, unknown> = {
      _type: 'Timestamp',
      expires: rfc3339(this.timestamp.expires),
      meta: { snapshot: metaOf(snapshot) },
      version: this.timestamp.version,
    };
    this.mutate['timestamp']?.(tsSigned);
    put('timestamp', this.signRole(tsSigned, this.timestamp), false);
    for (const [path, bytes] of Object.entries(this.serveOverride)) {
      const base = path.replace(/\.json$/, '');
      for (const k of [...files.keys()]) {
        if (
          k === path ||
          (k.startsWith(`${base}.`) && /^[0-9a-f]{64}\.json$/.test(k.slice(base.length + 1)))
        )
          files.delete(k);
      }
      if (bytes !== null) files.set(path, bytes);
    }
    return files;
  }
}

// -------------------------------------------------------------------------------------------
// A fake NotaryMetadataSource over a file map, recording every request.

/** The file name a request asks for, as notary-server routes it. */
export function requestPath(req: Pick<NotaryRoleRequest, 'role' | 'sha256' | 'version'>): string {
  if (req.version !== undefined) return `${req.version}.${req.role}.json`;
  if (req.sha256 !== undefined) return `${req.role}.${req.sha256}.json`;
  return `${req.role}.json`;
}

export class FakeNotaryServer implements NotaryMetadataSource {
  files: Map<string, Uint8Array>;
  readonly requests: string[] = [];
  /** Resolves pending responses when set (to hold requests in flight). */
  gate: Promise<void> | undefined;

  constructor(files: Map<string, Uint8Array>) {
    this.files = files;
  }

  async fetchRole(req: NotaryRoleRequest): Promise<Uint8Array | null> {
    const path = requestPath(req);
    this.requests.push(path);
    if (this.gate) await this.gate;
    const bytes = this.files.get(path);
    if (bytes === undefined) return null;
    if (bytes.length > req.maxBytes) {
      throw new InconclusiveError('LIMIT_EXCEEDED', `${path} is larger than ${req.maxBytes} bytes`);
    }
    return bytes;
  }
}

// -------------------------------------------------------------------------------------------
// A synchronous driver: the orchestrator's fetch order over a file map, for pure core tests.

export interface DriveResult {
  readonly repository: VerifiedRepository;
  readonly state: TrustedState;
  readonly requests: readonly string[];
}

/** Run one full update (or a refresh from the timestamp) against served files. */
export function driveTrustedSet(
  files: ReadonlyMap<string, Uint8Array>,
  opts: {
    gun: string;
    anchor: TrustAnchor;
    now: Date;
    previous?: TrustedState;
    fromTimestamp?: boolean;
  },
): DriveResult {
  const requests: string[] = [];
  const get = (path: string): Uint8Array | null => {
    requests.push(path);
    return files.get(path) ?? null;
  };
  const meta = (e: MetaExpectation): Uint8Array | null =>
    (e.sha256Hex !== undefined ? get(`${e.role}.${e.sha256Hex}.json`) : null) ??
    get(`${e.role}.json`);
  const set = new TrustedSet({
    gun: opts.gun,
    anchor: opts.anchor,
    now: opts.now,
    ...(opts.previous ? { previous: opts.previous } : {}),
  });
  if (!opts.fromTimestamp) {
    const root = get('root.json');
    if (root === null) throw new Error('no root.json');
    for (let next = set.updateRoot(root); next !== null;)
      next = set.updateRootVersion(next, get(`${next}.root.json`));
  }
  const ts = get('timestamp.json');
  if (ts === null) throw new Error('no timestamp.json');
  set.updateTimestamp(ts);
  if (!set.snapshotReused) {
    const snap = meta(set.expectedSnapshot());
    if (snap === null) throw new Error('no snapshot');
    set.updateSnapshot(snap);
    const t = set.expectedRole('targets');
    const targets = t ? meta(t) : null;
    if (targets === null) throw new Error('no targets');
    set.updateTargets(targets);
    for (let p = set.pendingDelegations(); p.length > 0; p = set.pendingDelegations()) {
      for (const e of p) set.updateDelegation(e.role, meta(e));
    }
  }
  return { ...set.finish(), requests };
}
