// SPDX-License-Identifier: Apache-2.0
// Buffered log sink: one write per flush interval, nothing lost or reordered, explicit flush.

import { describe, expect, it } from '@jest/globals';
import { createBufferedSink, FLUSH_INTERVAL_MS } from '../line-buffer.js';
import { createJsonLogger } from '../logger.js';

function recorder(): { writes: string[]; write(chunk: string): boolean } {
  const writes: string[] = [];
  return { writes, write: (chunk) => (writes.push(chunk), true) };
}

describe('createBufferedSink', () => {
  describe('when several lines are written in one turn', () => {
    it('writes them once, in order, when the scheduled flush runs', () => {
      const sink = recorder();
      const scheduled: (() => void)[] = [];
      const out = createBufferedSink(sink, { schedule: (fn) => scheduled.push(fn) });
      out.write('a\n');
      out.write('b\n');
      out.write('c\n');
      expect(sink.writes).toEqual([]);
      expect(scheduled).toHaveLength(1);
      expect(out.pendingChars).toBe(6);
      scheduled[0]!();
      expect(sink.writes).toEqual(['a\nb\nc\n']);
      expect(out.pendingChars).toBe(0);
    });

    it('schedules again after a flush', () => {
      const sink = recorder();
      const scheduled: (() => void)[] = [];
      const out = createBufferedSink(sink, { schedule: (fn) => scheduled.push(fn) });
      out.write('a\n');
      scheduled[0]!();
      out.write('b\n');
      expect(scheduled).toHaveLength(2);
      scheduled[1]!();
      expect(sink.writes).toEqual(['a\n', 'b\n']);
    });
  });

  describe('when flush() is called (shutdown, process exit)', () => {
    it('writes everything pending at once and the scheduled flush then writes nothing', () => {
      const sink = recorder();
      const scheduled: (() => void)[] = [];
      const out = createBufferedSink(sink, { schedule: (fn) => scheduled.push(fn) });
      out.write('x\n');
      out.write('y\n');
      out.flush();
      expect(sink.writes).toEqual(['x\ny\n']);
      scheduled[0]!();
      out.flush();
      expect(sink.writes).toEqual(['x\ny\n']);
    });
  });

  describe('when the pending text reaches the cap', () => {
    it('writes at once instead of holding more', () => {
      const sink = recorder();
      const out = createBufferedSink(sink, { maxPendingChars: 10, schedule: () => undefined });
      out.write('12345\n');
      expect(sink.writes).toEqual([]);
      out.write('67890\n');
      expect(sink.writes).toEqual(['12345\n67890\n']);
    });
  });

  describe('with the default schedule', () => {
    it('keeps lines across turns and writes them together when the flush timer fires', async () => {
      const sink = recorder();
      const out = createBufferedSink(sink);
      out.write('one\n');
      await new Promise((resolve) => setImmediate(resolve));
      out.write('two\n');
      expect(sink.writes).toEqual([]);
      // Timers run in order of their due time: this one is due after the flush timer.
      await new Promise((resolve) => setTimeout(resolve, FLUSH_INTERVAL_MS + 1));
      expect(sink.writes).toEqual(['one\ntwo\n']);
    });
  });

  describe('under a JSON logger', () => {
    it('passes the same bytes as an unbuffered logger', () => {
      const clock = { now: () => new Date('2026-12-02T12:00:00.000Z') };
      const direct = recorder();
      const buffered = recorder();
      const out = createBufferedSink(buffered, { schedule: () => undefined });
      const logThree = (stream: { write(chunk: string): unknown }): void => {
        const logger = createJsonLogger({ stream, clock, base: { component: 'trustgate' } });
        logger.info('first', { n: 1 });
        logger.audit?.('admission decision', { audit: true, uid: 'u"1' });
        logger.warn('third', { token: 'secret' });
      };
      logThree(direct);
      logThree(out);
      out.flush();
      expect(buffered.writes).toEqual([direct.writes.join('')]);
    });
  });
});
