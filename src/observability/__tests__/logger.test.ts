// SPDX-License-Identifier: Apache-2.0
// JSON-lines logger: one parseable line per call, secrets redacted, errors serialized, levels.

import { describe, expect, it } from '@jest/globals';
import { InconclusiveError } from '../../core/errors.js';
import { MemorySink } from '../../__fixtures__/admission/fake-verifier.js';
import { REDACTED, createJsonLogger, noopLogger, serializeError } from '../logger.js';

const clock = { now: () => new Date('2026-12-02T12:00:00.000Z') };

describe('createJsonLogger', () => {
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
