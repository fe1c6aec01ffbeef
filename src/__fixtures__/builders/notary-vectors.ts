// SPDX-License-Identifier: Apache-2.0
// Loads the recorded Notary v1 vectors (src/__fixtures__/notary-v1, byte-exact copies) and
// serves them the way notary-server does: compact form, plus consistent `<role>.<sha256>.json` names.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePinnedKey } from '../../core/crypto/keys.js';
import type { CompiledNotaryV1Source } from '../../core/policy/types.js';
import { sha256hex } from './tuf-repo.js';

export const VECTORS_DIR = fileURLToPath(new URL('../notary-v1/', import.meta.url));

export function readVector(rel: string): Buffer {
  return readFileSync(join(VECTORS_DIR, rel));
}

/**
 * Go json.Compact: drop whitespace outside strings, keep everything else byte for byte
 * (never JSON.stringify(JSON.parse()), which reorders integer-like keys and re-escapes).
 */
export function compact(bytes: Uint8Array): Buffer {
  const out: number[] = [];
  let inString = false;
  let escaped = false;
  for (const b of bytes) {
    if (inString) {
      out.push(b);
      if (escaped) escaped = false;
      else if (b === 0x5c) escaped = true;
      else if (b === 0x22) inString = false;
      continue;
    }
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    if (b === 0x22) inString = true;
    out.push(b);
  }
  return Buffer.from(out);
}

/** Add a served file under `<role>.json` and `<role>.<sha256>.json`. */
export function serve(files: Map<string, Uint8Array>, role: string, bytes: Uint8Array): void {
  files.set(`${role}.json`, bytes);
  files.set(`${role}.${sha256hex(bytes)}.json`, bytes);
}

/**
 * Serve a vector directory holding `root.json`, `timestamp.json`, `snapshot.json`,
 * `targets.json` and `targets/*.json`, compacted. `replace` swaps a role's file (a vector path or null = 404).
 */
export function serveSet(
  dir: string,
  replace: Record<string, string | null> = {},
): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const abs = join(VECTORS_DIR, dir);
  const roles: [string, string][] = [];
  const walk = (sub: string, prefix: string, depth: number): void => {
    for (const f of readdirSync(join(abs, sub))) {
      if (f.endsWith('.json')) roles.push([`${prefix}${f.slice(0, -5)}`, join(dir, sub, f)]);
      else if (depth < 4 && statSync(join(abs, sub, f)).isDirectory())
        walk(join(sub, f), `${prefix}${f}/`, depth + 1);
    }
  };
  walk('', '', 0);
  for (const [role, rel] of roles) {
    const r = role in replace ? replace[role] : rel;
    if (r === null || r === undefined) continue;
    serve(files, role, compact(readVector(r)));
  }
  for (const [role, rel] of Object.entries(replace)) {
    if (rel !== null && !roles.some(([r]) => r === role))
      serve(files, role, compact(readVector(rel)));
  }
  return files;
}

export interface PinSpec {
  keyIds?: string[];
  pems?: string[];
  cas?: string[];
  tofu?: boolean;
}

/** A compiled Notary v1 source pinning the given material (as H3's compile would produce it). */
export function notarySource(
  pins: PinSpec,
  name = 'dct',
  server = 'http://127.0.0.1:4443',
): CompiledNotaryV1Source {
  const fingerprints = new Set<string>();
  const publicKeys = [];
  for (const pem of pins.pems ?? []) {
    const p = parsePinnedKey(pem);
    if (p.kind === 'certificate') fingerprints.add(p.fingerprint);
    else publicKeys.push(p.publicKey);
  }
  const cas = (pins.cas ?? []).map((pem) => {
    const p = parsePinnedKey(pem);
    if (p.kind !== 'certificate') throw new Error('CA pin must be a certificate');
    return p.cert;
  });
  return {
    kind: 'notaryV1',
    name,
    server,
    rootKeyIds: new Set(pins.keyIds ?? []),
    rootCertFingerprints: fingerprints,
    rootPublicKeys: publicKeys,
    rootCAs: cas,
    trustOnFirstUse: pins.tofu ?? false,
    materialHash: sha256hex(Buffer.from(JSON.stringify(pins))),
  };
}

/** The SPKI PEM from a base64 DER public key (the inline pins of the connaisseur tests). */
export function spkiPem(b64: string): string {
  return `-----BEGIN PUBLIC KEY-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PUBLIC KEY-----\n`;
}

/** Root of connaisseur's Go-tree Notary v1 vectors. */
export const CONNAISSEUR_DIR = 'connaisseur/test/testdata/notaryv1';

/**
 * The PEM of key `name` in one of connaisseur's trust-root YAML configs (`- name: …` then an
 * indented `key: |` block). A line scan suffices for these fixed files; no YAML parser needed.
 */
export function connaisseurYamlKey(file: string, name: string): string {
  const text = readVector(`${CONNAISSEUR_DIR}/${file}`).toString();
  const start = text.indexOf(`- name: ${name}`);
  const block = text.slice(text.indexOf('key: |', start) + 7);
  const lines: string[] = [];
  for (const line of block.split('\n')) {
    if (!line.startsWith('      ')) break;
    lines.push(line.slice(6));
  }
  return lines.join('\n');
}
