// SPDX-License-Identifier: Apache-2.0
// Envelope parsing: real JWS/COSE vectors decode to the documented attributes; every malformed
// variant is a SIGNATURE_INVALID with a path, never a crash.

import { describe, expect, it } from '@jest/globals';
import { VerificationError } from '../../errors.js';
import {
  buildCose,
  buildJws,
  E2E_TARGET,
  encodeCbor,
  generated,
  MOCK_DIR,
  readVector,
  Tagged,
} from '../../../__fixtures__/notation/builders.js';
import { CborTag, decodeCbor } from '../cbor.js';
import { parseEnvelope, parseJwsEnvelope } from '../envelope.js';

const JWS = 'application/jose+json';
const COSE = 'application/cose';
const leaf = generated('ec-leaf');
const spec = { key: leaf.key!, chain: [leaf.cert], alg: 'ES256' as const };

function jwsObject(): Record<string, unknown> {
  return JSON.parse(buildJws(spec).toString()) as Record<string, unknown>;
}
function withProtected(attrs: Record<string, unknown>): Buffer {
  return withProtectedJson(JSON.stringify(attrs));
}
function withProtectedJson(json: string): Buffer {
  const o = jwsObject();
  o['protected'] = Buffer.from(json).toString('base64url');
  return Buffer.from(JSON.stringify(o));
}
function withMember(name: string, value: unknown): Buffer {
  const o = jwsObject();
  o[name] = value;
  return Buffer.from(JSON.stringify(o));
}
const baseAttrs = {
  alg: 'ES256',
  crit: ['io.cncf.notary.signingScheme'],
  cty: 'application/vnd.cncf.notary.payload.v1+json',
  'io.cncf.notary.signingScheme': 'notary.x509',
  'io.cncf.notary.signingTime': '2023-06-27T13:30:33+08:00',
};

describe('parseEnvelope', () => {
  describe('when given real vectors', () => {
    it('decodes ca_valid_sig_env.json (JWS, PS384, 2-cert chain)', () => {
      const env = parseEnvelope(readVector(`${MOCK_DIR}/ca_valid_sig_env.json`), JWS);
      expect(env.format).toBe('jws');
      expect(env.signedAttrs).toEqual(
        expect.objectContaining({
          alg: 'PS384',
          signingScheme: 'notary.x509',
          crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry'],
          unknownCritical: [],
        }),
      );
      expect(env.signedAttrs.expiry?.toISOString()).toBe('2120-11-09T07:00:00.000Z');
      expect(env.certChain).toHaveLength(2);
      expect(env.payload.targetArtifact.size).toBe(528);
    });

    it('parses signing times with offsets (e2e signature: +08:00)', () => {
      const env = parseEnvelope(
        readVector(
          'notation/test/e2e/testdata/registry/oci_layout/e2e-valid-signature/blobs/sha256/c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50',
        ),
        JWS,
      );
      expect(env.signedAttrs.signingTime?.toISOString()).toBe('2023-06-27T05:30:33.000Z');
    });

    it('decodes cose_signature.sig (tag 18, alg -37, tag-1 signing time, x5chain)', () => {
      const env = parseEnvelope(
        readVector('notation-go/internal/testdata/cose_signature.sig'),
        COSE,
      );
      expect(env.format).toBe('cose');
      expect(env.signedAttrs.alg).toBe('PS256');
      expect(env.signedAttrs.signingTime?.getTime()).toBe(1678769122 * 1000);
      expect(env.certChain).toHaveLength(1);
      expect(env.payload.targetArtifact.digest).toBe(
        'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0',
      );
    });

    it('reads the timestamp token from blob.jws.sig and blob.cose.sig', () => {
      for (const [f, mt] of [
        ['blob.jws.sig', JWS],
        ['blob.cose.sig', COSE],
      ] as const) {
        const env = parseEnvelope(readVector(`notation/test/e2e/testdata/signatures/${f}`), mt);
        expect(env.timestampToken?.[0]).toBe(0x30); // DER SEQUENCE
        expect(env.payload.targetArtifact.mediaType).toBe('application/octet-stream');
      }
    });

    it('rejects malformed.jws.sig', () => {
      expect(() =>
        parseEnvelope(readVector('notation/test/e2e/testdata/signatures/malformed.jws.sig'), JWS),
      ).toThrowWithCode(VerificationError, 'SIGNATURE_INVALID');
    });

    it('rejects the notation-core-go JWS conformance envelope (no x5c)', () => {
      const doc = readVector('notation-core-go/signature/jws/testdata/conformance.json');
      expect(() => parseJwsEnvelope(doc)).toThrowWithCode(VerificationError, 'SIGNATURE_INVALID');
    });

    it('decodes the notation-core-go COSE conformance vector and rejects it for lack of x5chain', () => {
      const c = JSON.parse(
        readVector('notation-core-go/signature/cose/testdata/conformance.json').toString(),
      ) as {
        protectedHeaders: { cborHex: string };
        expectedOutput: { cborHex: string };
      };
      const hdr = decodeCbor(Buffer.from(c.protectedHeaders.cborHex, 'hex')) as ReadonlyMap<
        number | string,
        unknown
      >;
      expect(hdr.get(1)).toBe(-38);
      expect(hdr.get(2)).toEqual([
        'io.cncf.notary.signingScheme',
        'io.cncf.notary.expiry',
        'signedCritKey1',
      ]);
      expect(hdr.get('io.cncf.notary.signingTime')).toEqual(new CborTag(1, 1661321924));
      expect(() => parseEnvelope(Buffer.from(c.expectedOutput.cborHex, 'hex'), COSE)).toThrow(
        /x5chain/,
      );
    });
  });

  describe('when the payload carries optional descriptor fields', () => {
    it('keeps annotations and artifactType (sig_env_with_metadata.json)', () => {
      const env = parseEnvelope(readVector(`${MOCK_DIR}/sig_env_with_metadata.json`), JWS);
      expect(env.payload.targetArtifact.annotations).toEqual({
        'io.wabbit-networks.buildId': '123',
        'io.wabbit-networks.buildTime': '1672944615',
      });
    });

    it('keeps a string artifactType', () => {
      const rawPayload = Buffer.from(
        JSON.stringify({
          targetArtifact: { ...E2E_TARGET, artifactType: 'application/vnd.example.sbom' },
        }),
      );
      expect(
        parseEnvelope(buildJws({ ...spec, rawPayload }), JWS).payload.targetArtifact.artifactType,
      ).toBe('application/vnd.example.sbom');
    });

    it.each([
      ['annotations with a number', { annotations: { a: 1 } }],
      ['artifactType as a number', { artifactType: 5 }],
      ['an empty media type', { mediaType: '' }],
      ['a digest without algorithm', { digest: 'abc' }],
    ])('rejects %s', (_n, over) => {
      const rawPayload = Buffer.from(
        JSON.stringify({ targetArtifact: { ...E2E_TARGET, ...over } }),
      );
      expect(() => parseEnvelope(buildJws({ ...spec, rawPayload }), JWS)).toThrow(
        /payload\.targetArtifact/,
      );
    });
  });

  describe('when the JWS is malformed', () => {
    const cases: [string, () => Buffer][] = [
      ['not JSON', () => Buffer.from('{')],
      ['not UTF-8', () => Buffer.from([0xff, 0xfe])],
      ['an array', () => Buffer.from('[]')],
      ['a compact JWS', () => Buffer.from('"a.b.c"')],
      [
        'general serialization (signatures array)',
        () => {
          const o = jwsObject();
          o['signatures'] = [];
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'missing header',
        () => {
          const o = jwsObject();
          delete o['header'];
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'padded payload',
        () => {
          const o = jwsObject();
          o['payload'] = `${o['payload'] as string}=`;
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'standard-base64 signature',
        () => {
          const o = jwsObject();
          o['signature'] = (o['signature'] as string).replace(/-/g, '+').replace(/_/g, '/') + '+';
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'payload not JSON',
        () => {
          const o = jwsObject();
          o['payload'] = Buffer.from('nope').toString('base64url');
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'payload without targetArtifact',
        () => {
          const o = jwsObject();
          o['payload'] = Buffer.from('{}').toString('base64url');
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'negative size',
        () => {
          const o = jwsObject();
          o['payload'] = Buffer.from(
            JSON.stringify({ targetArtifact: { mediaType: 'x', digest: 'sha256:00', size: -1 } }),
          ).toString('base64url');
          return Buffer.from(JSON.stringify(o));
        },
      ],
      ['alg none', () => withProtected({ ...baseAttrs, alg: 'none' })],
      ['alg HS256', () => withProtected({ ...baseAttrs, alg: 'HS256' })],
      ['crit missing', () => withProtected({ ...baseAttrs, crit: undefined })],
      ['crit empty', () => withProtected({ ...baseAttrs, crit: [] })],
      [
        'crit listing alg',
        () => withProtected({ ...baseAttrs, crit: ['alg', 'io.cncf.notary.signingScheme'] }),
      ],
      [
        'unknown signing scheme',
        () =>
          withProtected({ ...baseAttrs, 'io.cncf.notary.signingScheme': 'notary.default.x509' }),
      ],
      [
        'signing time not RFC 3339',
        () => withProtected({ ...baseAttrs, 'io.cncf.notary.signingTime': '2023/06/27' }),
      ],
      [
        'expiry as a number',
        () => withProtected({ ...baseAttrs, 'io.cncf.notary.expiry': 1700000000 }),
      ],
      [
        'x5c empty',
        () => {
          const o = jwsObject();
          o['header'] = { x5c: [] };
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'x5c not base64',
        () => {
          const o = jwsObject();
          o['header'] = { x5c: ['***'] };
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'x5c not a certificate',
        () => {
          const o = jwsObject();
          o['header'] = { x5c: [Buffer.from('hello world!').toString('base64')] };
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'x5c with trailing bytes',
        () => {
          const o = jwsObject();
          o['header'] = {
            x5c: [Buffer.concat([leaf.cert.raw, Buffer.from([0])]).toString('base64')],
          };
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'x5c with 11 certificates',
        () => {
          const o = jwsObject();
          o['header'] = { x5c: Array(11).fill(leaf.cert.raw.toString('base64')) };
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'header repeating a protected name',
        () => {
          const o = jwsObject();
          (o['header'] as Record<string, unknown>)['alg'] = 'ES256';
          return Buffer.from(JSON.stringify(o));
        },
      ],
      [
        'timestamp not base64',
        () => {
          const o = jwsObject();
          (o['header'] as Record<string, unknown>)['io.cncf.notary.timestampSignature'] = '%%';
          return Buffer.from(JSON.stringify(o));
        },
      ],
    ];
    it.each(cases)('rejects %s with SIGNATURE_INVALID', (_name, make) => {
      expect(() => parseEnvelope(make(), JWS)).toThrowWithCode(
        VerificationError,
        'SIGNATURE_INVALID',
      );
    });

    it('names the offending path in the message', () => {
      expect(() => parseEnvelope(withProtected({ ...baseAttrs, alg: 'none' }), JWS)).toThrow(
        /protected\.alg/,
      );
    });

    it.each<[string, () => Buffer, string]>([
      ['an empty signature', () => withMember('signature', ''), 'signature: is empty'],
      [
        'a protected header that is a JSON array',
        () => withProtectedJson('[]'),
        'protected: must be a JSON object',
      ],
      [
        'an unprotected header that is an array',
        () => withMember('header', []),
        'header: must be a JSON object',
      ],
      [
        'a payload that is a JSON array',
        () => buildJws({ ...spec, rawPayload: Buffer.from('[1]') }),
        'payload: must be a JSON object',
      ],
      [
        'cty as a number',
        () => withProtected({ ...baseAttrs, cty: 1 }),
        'protected.cty: must be a string',
      ],
      [
        'signingScheme as an array',
        () => withProtected({ ...baseAttrs, 'io.cncf.notary.signingScheme': ['notary.x509'] }),
        'protected.io.cncf.notary.signingScheme: must be a string',
      ],
      [
        'verificationPlugin as a number',
        () => withProtected({ ...baseAttrs, 'io.cncf.notary.verificationPlugin': 1 }),
        'protected.io.cncf.notary.verificationPlugin: must be a string',
      ],
      [
        'verificationPluginMinVersion as an object',
        () => withProtected({ ...baseAttrs, 'io.cncf.notary.verificationPluginMinVersion': {} }),
        'protected.io.cncf.notary.verificationPluginMinVersion: must be a string',
      ],
      [
        // Used to escape as a RangeError: the message JSON.stringify'd the value and overflowed the stack.
        'alg as a 100 000-deep array',
        () => {
          const { alg: _alg, ...rest } = baseAttrs;
          const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
          return withProtectedJson(`{"alg":${deep},${JSON.stringify(rest).slice(1)}`);
        },
        'protected.alg: must be a string',
      ],
    ])('rejects %s with SIGNATURE_INVALID naming the field', (_n, make, message) => {
      const bytes = make();
      expect(() => parseEnvelope(bytes, JWS)).toThrowWithCode(
        VerificationError,
        'SIGNATURE_INVALID',
      );
      expect(() => parseEnvelope(bytes, JWS)).toThrow(`malformed Notation envelope: ${message}`);
    });

    it('rejects every truncation of a valid envelope without crashing', () => {
      const good = buildJws(spec);
      for (let n = 0; n < good.length; n += 7) {
        expect(() => parseEnvelope(good.subarray(0, n), JWS)).toThrowWithCode(
          VerificationError,
          'SIGNATURE_INVALID',
        );
      }
    });

    it('rejects an envelope larger than LIMITS.maxEnvelopeBytes before parsing', () => {
      expect(() => parseEnvelope(Buffer.alloc(32 * 1024 * 1024 + 1, 0x20), JWS)).toThrow(/limit/);
    });
  });

  describe('when the COSE envelope is malformed', () => {
    const good = buildCose(spec);
    const hdr = (entries: [number | string, unknown][]): Buffer => encodeCbor(new Map(entries));
    const sign1 = (
      protectedBytes: Buffer,
      unprotected: Map<number | string, unknown> = new Map([[33, [leaf.cert.raw]]]),
    ): Buffer =>
      encodeCbor(
        new Tagged(18, [
          protectedBytes,
          unprotected,
          Buffer.from(JSON.stringify({ targetArtifact: E2E_TARGET })),
          Buffer.from([1, 2]),
        ]),
      );
    const okHdr: [number | string, unknown][] = [
      [1, -7],
      [2, ['io.cncf.notary.signingScheme']],
      [3, 'application/vnd.cncf.notary.payload.v1+json'],
      ['io.cncf.notary.signingScheme', 'notary.x509'],
      ['io.cncf.notary.signingTime', new Tagged(1, 1700000000)],
    ];
    const replace = (label: number | string, v: unknown): [number | string, unknown][] =>
      okHdr.map(([k, x]) => [k, k === label ? v : x]);
    const cases: [string, () => Buffer][] = [
      [
        'untagged Sign1',
        () => encodeCbor([Buffer.alloc(0), new Map(), Buffer.alloc(0), Buffer.alloc(0)]),
      ],
      ['tag 98 (COSE_Sign)', () => encodeCbor(new Tagged(98, []))],
      [
        '3-element array',
        () => encodeCbor(new Tagged(18, [Buffer.alloc(0), new Map(), Buffer.alloc(0)])),
      ],
      [
        'detached payload (nil)',
        () =>
          encodeCbor(
            new Tagged(18, [hdr(okHdr), new Map([[33, [leaf.cert.raw]]]), null, Buffer.from([1])]),
          ),
      ],
      ['trailing bytes', () => Buffer.concat([good, Buffer.from([0])])],
      ['indefinite-length array', () => Buffer.from([0xd2, 0x9f, 0xff])],
      [
        'float in the protected header',
        () =>
          sign1(
            Buffer.concat([Buffer.from([0xa1, 0x01]), Buffer.from([0xfb, 0, 0, 0, 0, 0, 0, 0, 0])]),
          ),
      ],
      ['alg as a text string', () => sign1(hdr(replace(1, 'PS256')))],
      ['alg -8 (EdDSA)', () => sign1(hdr(replace(1, -8)))],
      [
        'untagged signing time',
        () => sign1(hdr(replace('io.cncf.notary.signingTime', 1700000000))),
      ],
      [
        'signing time with tag 0',
        () =>
          sign1(hdr(replace('io.cncf.notary.signingTime', new Tagged(0, '2023-01-01T00:00:00Z')))),
      ],
      ['content type as an integer', () => sign1(hdr(replace(3, 50)))],
      ['crit with a byte string', () => sign1(hdr(replace(2, [Buffer.from('x')])))],
      ['x5chain missing', () => sign1(hdr(okHdr), new Map())],
      ['x5chain of text', () => sign1(hdr(okHdr), new Map([[33, ['cert']]]))],
      [
        'label in both buckets',
        () =>
          sign1(
            hdr(okHdr),
            new Map<number | string, unknown>([
              [33, [leaf.cert.raw]],
              [3, 'x'],
            ]),
          ),
      ],
      [
        'duplicate map keys',
        () => sign1(Buffer.concat([Buffer.from([0xa2, 0x01, 0x26, 0x01, 0x26])])),
      ],
      ['protected header not a map', () => sign1(encodeCbor([1, 2]))],
    ];
    it.each(cases)('rejects %s with SIGNATURE_INVALID', (_name, make) => {
      expect(() => parseEnvelope(make(), COSE)).toThrowWithCode(
        VerificationError,
        'SIGNATURE_INVALID',
      );
    });

    it.each<[string, () => Buffer, string]>([
      [
        'an empty signature',
        () =>
          encodeCbor(
            new Tagged(18, [
              hdr(okHdr),
              new Map([[33, [leaf.cert.raw]]]),
              Buffer.from('{}'),
              Buffer.alloc(0),
            ]),
          ),
        'signature: is empty',
      ],
      [
        'crit as a text string',
        () => sign1(hdr(replace(2, 'io.cncf.notary.signingScheme'))),
        'protected[2]: crit must be a non-empty array',
      ],
      [
        'crit empty',
        () => sign1(hdr(replace(2, []))),
        'protected[2]: crit must be a non-empty array',
      ],
      [
        'signingScheme as an integer',
        () => sign1(hdr(replace('io.cncf.notary.signingScheme', 1))),
        'protected.io.cncf.notary.signingScheme: must be a text string',
      ],
      [
        'a signing time beyond the Date range',
        () =>
          // Tag 1 over the uint64 2^50 (seconds): beyond what the test encoder writes.
          sign1(
            Buffer.concat([
              Buffer.from([0xa5]),
              ...okHdr.slice(0, 4).flatMap(([k, v]) => [encodeCbor(k), encodeCbor(v)]),
              encodeCbor('io.cncf.notary.signingTime'),
              Buffer.from([0xc1, 0x1b, 0, 0x04, 0, 0, 0, 0, 0, 0]),
            ]),
          ),
        'protected.io.cncf.notary.signingTime: out of range',
      ],
      [
        'x5chain as an integer',
        () => sign1(hdr(okHdr), new Map([[33, 7]])),
        'unprotected[33]: must be a byte string or an array of byte strings',
      ],
      [
        'a protected x5chain of text (path names the protected bucket)',
        () => sign1(hdr([...okHdr, [33, ['cert']]]), new Map()),
        'protected[33][0]: must be a byte string',
      ],
      [
        'a text string that is not UTF-8',
        () => Buffer.from([0xd2, 0x81, 0x62, 0xc3, 0x28]), // 18([ text(2) "\xc3(" ])
        '$: text string at byte 3 is not valid UTF-8',
      ],
      [
        // Used to JSON.stringify the label into the message: seconds and gigabytes for a large one.
        'alg as a 1 MiB byte string',
        () => sign1(hdr(replace(1, Buffer.alloc(1 << 20)))),
        'protected[1]: must be an integer algorithm',
      ],
    ])('rejects %s with SIGNATURE_INVALID naming the field', (_n, make, message) => {
      const bytes = make();
      expect(() => parseEnvelope(bytes, COSE)).toThrowWithCode(
        VerificationError,
        'SIGNATURE_INVALID',
      );
      expect(() => parseEnvelope(bytes, COSE)).toThrow(`malformed Notation envelope: ${message}`);
    });

    it('reads x5chain from the protected header and lists integer labels by name or number', () => {
      const env = parseEnvelope(
        sign1(
          hdr([...replace(2, ['io.cncf.notary.signingScheme', 99]), [33, [leaf.cert.raw]]]),
          new Map(),
        ),
        COSE,
      );
      expect(env.certChain[0]?.raw).toEqual(leaf.cert.raw);
      expect(env.signedAttrs.names).toEqual([
        'alg',
        'crit',
        'cty',
        'io.cncf.notary.signingScheme',
        'io.cncf.notary.signingTime',
        '33',
      ]);
      // An integer crit label is kept as its decimal string, and is unknown to this verifier.
      expect(env.signedAttrs.crit).toEqual(['io.cncf.notary.signingScheme', '99']);
      expect(env.signedAttrs.unknownCritical).toEqual(['99']);
    });

    it('accepts a single x5chain certificate given as a bare byte string (RFC 9360)', () => {
      const env = parseEnvelope(sign1(hdr(okHdr), new Map([[33, leaf.cert.raw]])), COSE);
      expect(env.certChain).toHaveLength(1);
    });

    it('rejects every truncation of a valid envelope without crashing', () => {
      for (let n = 0; n < good.length; n += 5) {
        expect(() => parseEnvelope(good.subarray(0, n), COSE)).toThrowWithCode(
          VerificationError,
          'SIGNATURE_INVALID',
        );
      }
    });
  });
});
