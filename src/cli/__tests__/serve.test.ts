// SPDX-License-Identifier: Apache-2.0
// The shutdown sequence of `trustgate serve` (untilShutdown), with SIGTERM/SIGINT coming from an
// EventEmitter: the SIGTERM delay with readiness off, what cuts it short and what skips it. The
// real process, with real signals, is test/cli/serve-process.test.ts.

import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from '@jest/globals';
import { MemorySink } from '../../__fixtures__/admission/fake-verifier.js';
import { createJsonLogger } from '../../observability/logger.js';
import { untilShutdown } from '../serve.js';

/** Longer than any test may run: the wait only ends if something cuts it short. */
const LONG_MS = 10 * 60_000;

/** Every emitter made below; afterEach ends whatever wait a failed test left pending. */
const made: EventEmitter[] = [];
afterEach(() => {
  for (const signals of made.splice(0)) signals.emit('SIGINT');
});

function shutdown(delayMs: number, signal?: AbortSignal) {
  const signals = new EventEmitter();
  made.push(signals);
  const sink = new MemorySink();
  let drains = 0;
  let done = false;
  const finished = untilShutdown({
    server: { beginDrain: () => void drains++ },
    delayMs,
    logger: createJsonLogger({ stream: sink }),
    signal,
    signals,
  }).then(() => {
    done = true;
  });
  return {
    signals,
    finished,
    drains: () => drains,
    done: () => done,
    messages: () => sink.lines.map((l) => l['msg']),
    listeners: () => signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT'),
  };
}

/** Let pending promise callbacks and I/O run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('untilShutdown', () => {
  describe('when SIGTERM arrives with a delay configured', () => {
    it('turns readiness off, logs the delay once and keeps waiting until a second SIGTERM', async () => {
      const s = shutdown(LONG_MS);
      await settle();
      expect([s.drains(), s.done()]).toEqual([0, false]);

      s.signals.emit('SIGTERM');
      await settle();
      expect(s.drains()).toBe(1);
      expect(s.done()).toBe(false);
      expect(s.messages()).toEqual([
        `shutting down: readiness off, serving for ${LONG_MS / 1000} s while endpoints update`,
      ]);

      s.signals.emit('SIGTERM');
      await s.finished;
      expect(s.drains()).toBe(1);
      expect(s.listeners()).toBe(0);
    });

    it('ends the wait by itself after the delay', async () => {
      const s = shutdown(10);
      s.signals.emit('SIGTERM');
      await s.finished;
      expect(s.drains()).toBe(1);
      expect(s.messages()).toEqual([
        'shutting down: readiness off, serving for 0.01 s while endpoints update',
      ]);
      expect(s.listeners()).toBe(0);
    });

    it('ends the wait on SIGINT', async () => {
      const s = shutdown(LONG_MS);
      s.signals.emit('SIGTERM');
      await settle();
      expect(s.done()).toBe(false);
      s.signals.emit('SIGINT');
      await s.finished;
      expect(s.listeners()).toBe(0);
    });

    it('ends the wait when its own signal aborts', async () => {
      const controller = new AbortController();
      const s = shutdown(LONG_MS, controller.signal);
      s.signals.emit('SIGTERM');
      await settle();
      expect(s.done()).toBe(false);
      controller.abort();
      await s.finished;
      expect(s.listeners()).toBe(0);
    });
  });

  describe('when the delay is skipped', () => {
    it('returns at once on SIGINT (Ctrl-C), readiness untouched', async () => {
      const s = shutdown(LONG_MS);
      s.signals.emit('SIGINT');
      await s.finished;
      expect([s.drains(), s.messages(), s.listeners()]).toEqual([0, [], 0]);
    });

    it('returns at once when its own signal aborts', async () => {
      const controller = new AbortController();
      const s = shutdown(LONG_MS, controller.signal);
      controller.abort();
      await s.finished;
      expect([s.drains(), s.messages(), s.listeners()]).toEqual([0, [], 0]);
    });

    it('returns at once when its signal was aborted before the call', async () => {
      const s = shutdown(LONG_MS, AbortSignal.abort());
      await s.finished;
      expect([s.drains(), s.messages(), s.listeners()]).toEqual([0, [], 0]);
    });

    it('returns at once on SIGTERM with shutdownDelaySeconds: 0', async () => {
      const s = shutdown(0);
      s.signals.emit('SIGTERM');
      await s.finished;
      expect([s.drains(), s.messages(), s.listeners()]).toEqual([0, [], 0]);
    });
  });
});
