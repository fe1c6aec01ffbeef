// SPDX-License-Identifier: Apache-2.0
// Leaf-certificate subject → attribute map and display string, with notation-go's restrictions
// (internal/pkix/pkix.go + Go's pkix.Name.String()), and `x509.subject` identity matching.

import type { DnAttribute } from './der.js';

/** The attribute types Go's pkix.Name renders by name; everything else becomes `OID=#hex`. */
const ATTRIBUTE_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.5', 'SERIALNUMBER'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'STREET'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.17', 'POSTALCODE'],
]);

/** RFC 4514 §2.4 escaping, as Go's AttributeTypeAndValue.String does. */
function escapeValue(v: string): string {
  let out = v.replace(/[\\,+"<>;]/g, (c) => `\\${c}`);
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/**
 * Display form of a subject in Go/notation order (last RDN first): `CN=e2e,O=Notary,L=Seattle,ST=WA,C=US`.
 * Multi-valued RDNs are joined with `+`.
 */
export function toDnString(attrs: readonly DnAttribute[]): string {
  const rdns = new Map<number, string[]>();
  for (const a of attrs) {
    const name = ATTRIBUTE_NAMES.get(a.oid) ?? a.oid;
    const list = rdns.get(a.rdn) ?? [];
    list.push(`${name}=${escapeValue(a.value)}`);
    rdns.set(a.rdn, list);
  }
  return [...rdns.keys()]
    .sort((x, y) => y - x)
    .map((k) => rdns.get(k)!.join('+'))
    .join(',');
}

/**
 * The leaf subject as a map for trusted-identity matching, or a reason why it cannot be matched.
 * notation-go rejects subjects it cannot represent unambiguously: attribute types outside Go's named
 * set (rendered `OID=#hex`), any value producing `=#`, and repeated attribute types (e.g. two OUs).
 * Multi-valued RDNs are flattened, as Go's pkix.Name does.
 */
export function toSubjectMap(
  attrs: readonly DnAttribute[],
): { ok: true; map: ReadonlyMap<string, string> } | { ok: false; reason: string } {
  const map = new Map<string, string>();
  for (const a of attrs) {
    const name = ATTRIBUTE_NAMES.get(a.oid);
    if (!name)
      return {
        ok: false,
        reason: `attribute type ${a.oid} is not supported in x509.subject matching`,
      };
    // Go escapes a leading '#' (`\#`), so only an interior "=#" reaches notation's check.
    if (a.value.includes('=#')) {
      return {
        ok: false,
        reason: `value ${JSON.stringify(a.value)} of ${name} contains "=#", which notation does not support`,
      };
    }
    if (map.has(name)) return { ok: false, reason: `attribute ${name} appears more than once` };
    map.set(name, a.value);
  }
  return { ok: true, map };
}

/** Identity keys as the policy may write them; `S` is notation's alias of `ST`. */
function normalizeKey(k: string): string {
  const up = k.trim().toUpperCase();
  return up === 'S' ? 'ST' : up;
}

/**
 * Whether `identity` (every attribute it names, exact value, case-sensitive) is a subset of the leaf subject.
 * `'*'` matches any leaf. An empty identity map never matches.
 */
export function matchesIdentity(
  identity: ReadonlyMap<string, string> | '*',
  subject: ReadonlyMap<string, string>,
): boolean {
  if (identity === '*') return true;
  if (identity.size === 0) return false;
  for (const [k, v] of identity) {
    if (subject.get(normalizeKey(k)) !== v) return false;
  }
  return true;
}
