// SPDX-License-Identifier: Apache-2.0
// JSON-lines logger: one parseable line per call, secrets redacted, errors serialized, levels.

import { describe, expect, it } from '@jest/globals';
import { InconclusiveError } from '../../core/errors.js';
import { MemorySink } from '../../__fixtures__/admission/fake-verifier.js';
import { REDACTED, createJsonLogger, noopLogger, serializeError } from '../logger.js';

const clock = { now: () => new Date('2026-12-02T12:00:00.000Z') };

const AUDIT_SAMPLE = {
  audit: true,
  endpoint: 'validate',
  decidedAt: '2026-12-02T12:00:00.000Z',
  uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
  operation: 'CREATE',
  namespace: 'shop',
  kind: 'Pod',
  name: 'web-"quoted"-\u2028',
  user: 'system:serviceaccount:kube-system:replicaset-controller',
  images: [
    {
      image: 'registry.example.com/team/web:v1',
      path: 'spec.containers[0].image',
      digest: `sha256:${'a'.repeat(64)}`,
      allowed: true,
    },
    { image: 'quay.io/x/y:1', path: 'spec.containers[1].image', allowed: false },
  ],
  decision: 'deny',
  allowed: false,
  reasons: ['NO_MATCHING_POLICY'],
  policies: ['ClusterTrustPolicy/p'],
  durationMs: 0.123,
  dryRun: false,
};

describe('createJsonLogger', () => {
  describe('when an audit record is logged', () => {
    it('writes exactly the bytes info() writes for it', () => {
      for (const base of [{}, { component: 'webhook', build: { v: 1 } }]) {
        const viaInfo = new MemorySink();
        const viaAudit = new MemorySink();
        createJsonLogger({ stream: viaInfo, clock, base }).info('admission decision', AUDIT_SAMPLE);
        createJsonLogger({ stream: viaAudit, clock, base }).audit?.(
          'admission decision',
          AUDIT_SAMPLE,
        );
        expect(viaAudit.raw).toEqual(viaInfo.raw);
        expect(viaAudit.raw).toHaveLength(1);
        // The same with the record already serialised by the caller.
        const viaJson = new MemorySink();
        createJsonLogger({ stream: viaJson, clock, base }).audit?.(
          'admission decision',
          AUDIT_SAMPLE,
          JSON.stringify(AUDIT_SAMPLE),
        );
        expect(viaJson.raw).toEqual(viaInfo.raw);
      }
    });

    it('still redacts secret-named base fields and keeps key order when a field repeats one', () => {
      const sink = new MemorySink();
      const logger = createJsonLogger({ stream: sink, clock, base: { token: 'tok-9', kind: 'x' } });
      logger.audit?.('admission decision', AUDIT_SAMPLE);
      expect(sink.raw.join('')).not.toContain('tok-9');
      expect(sink.lines[0]).toMatchObject({ token: REDACTED, kind: 'Pod', uid: AUDIT_SAMPLE.uid });
      const other = new MemorySink();
      createJsonLogger({ stream: other, clock, base: { kind: 'x' } }).audit?.('m', AUDIT_SAMPLE);
      const same = new MemorySink();
      createJsonLogger({ stream: same, clock, base: { kind: 'x' } }).info('m', AUDIT_SAMPLE);
      expect(other.raw).toEqual(same.raw);
    });

    it('writes the same bytes as info() for awkward bases and records', () => {
      const cases: [Record<string, unknown>, Record<string, unknown>][] = [
        [{ unset: undefined }, AUDIT_SAMPLE],
        [{ '0': 'zero' }, AUDIT_SAMPLE],
        [{}, { ...AUDIT_SAMPLE, '7': 'seven' }],
        [{ component: 'webhook' }, {}],
        [{ nested: { password: 'p' } }, AUDIT_SAMPLE],
      ];
      for (const [base, record] of cases) {
        const viaInfo = new MemorySink();
        const viaAudit = new MemorySink();
        createJsonLogger({ stream: viaInfo, clock, base }).info('m', record);
        createJsonLogger({ stream: viaAudit, clock, base }).audit?.('m', record);
        expect(viaAudit.raw).toEqual(viaInfo.raw);
        // A serialised record does not bypass the checks that send these to the generic path.
        const viaJson = new MemorySink();
        createJsonLogger({ stream: viaJson, clock, base }).audit?.(
          'm',
          record,
          JSON.stringify(record),
        );
        expect(viaJson.raw).toEqual(viaInfo.raw);
      }
    });

    it('drops the line below the info level', () => {
      const sink = new MemorySink();
      createJsonLogger({ stream: sink, clock, level: 'warn' }).audit?.('m', AUDIT_SAMPLE);
      expect(sink.raw).toEqual([]);
    });
  });

  describe('when fields hold secrets at any depth', () => {
    it('replaces them with [REDACTED] and keeps the rest', () => {
      const sink = new MemorySink();
      createJsonLogger({ stream: sink, clock }).info('pulled', {
        registry: 'registry.example.com',
        password: 'hunter2',
        headers: { Authorization: 'Bearer abc.def', accept: 'application/json' },
        creds: [{ username: 'bob', identityToken: 'tok-1', auth: 'Ym9iOmh1bnRlcjI=' }],
        secret: { data: { '.dockerconfigjson': 'eyJhdXRocyI6e319' } },
        privateKey: '-----BEGIN PRIVATE KEY-----',
      });
      const raw = sink.raw.join('');
      for (const leaked of [
        'hunter2',
        'abc.def',
        'tok-1',
        'Ym9iOmh1bnRlcjI=',
        'eyJhdXRocyI6e319',
        'BEGIN PRIVATE',
      ]) {
        expect(raw).not.toContain(leaked);
      }
      expect(sink.lines[0]).toEqual({
        time: '2026-12-02T12:00:00.000Z',
        level: 'info',
        msg: 'pulled',
        registry: 'registry.example.com',
        password: REDACTED,
        headers: { Authorization: REDACTED, accept: 'application/json' },
        creds: [{ username: 'bob', identityToken: REDACTED, auth: REDACTED }],
        secret: REDACTED,
        privateKey: REDACTED,
      });
    });
  });

  describe('when a field is an Error', () => {
    it('writes {name, code, message, cause} and no stack', () => {
      const sink = new MemorySink();
      const err = new InconclusiveError('TIMEOUT', 'notary did not answer', {
        cause: new Error('socket hang up'),
      });
      createJsonLogger({ stream: sink, clock }).error('failed', { error: err });
      expect(sink.lines[0]?.['error']).toEqual({
        name: 'InconclusiveError',
        code: 'TIMEOUT',
        message: 'notary did not answer',
        cause: { name: 'Error', message: 'socket hang up' },
      });
      expect(sink.raw.join('')).not.toContain('at ');
    });
  });

  describe('when below the configured level', () => {
    it('drops debug lines and keeps child fields on the others', () => {
      const sink = new MemorySink();
      const log = createJsonLogger({
        stream: sink,
        clock,
        level: 'info',
        base: { component: 'webhook' },
      });
      log.debug('noise');
      log.child({ uid: 'u-1' }).warn('slow');
      expect(sink.lines).toHaveLength(1);
      expect(sink.lines[0]).toMatchObject({
        level: 'warn',
        msg: 'slow',
        component: 'webhook',
        uid: 'u-1',
      });
    });
  });

  describe('when fields are circular', () => {
    it('still writes one line', () => {
      const sink = new MemorySink();
      const a: Record<string, unknown> = { name: 'a' };
      a['self'] = a;
      createJsonLogger({ stream: sink, clock }).info('loop', { a });
      expect(sink.lines[0]?.['a']).toEqual({ name: 'a', self: '[Circular]' });
    });
  });
});

describe('serializeError / noopLogger', () => {
  it('handles non-Error throws and does nothing', () => {
    expect(serializeError('boom')).toEqual({ name: 'string', message: 'boom' });
    expect(() => noopLogger.child({ a: 1 }).error('x')).not.toThrow();
  });
});
