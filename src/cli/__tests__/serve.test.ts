// SPDX-License-Identifier: Apache-2.0
// The shutdown sequence of `trustgate serve` (stopSignals, untilShutdown, shutdown, runServe), with
// SIGTERM/SIGINT coming from an EventEmitter: the SIGTERM delay with readiness off, what cuts it
// short and what skips it, a signal during the drain, and one set of signal listeners from before
// serving until after the final flush. The real process, with real signals, is
// test/cli/serve-process.test.ts.

import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import { MemorySink } from '../../__fixtures__/admission/fake-verifier.js';
import { createJsonLogger } from '../../observability/logger.js';
import { runServe, shutdown, stopSignals, untilShutdown, type StopSignals } from '../serve.js';

/** Longer than any test may run: the wait only ends if something cuts it short. */
const LONG_MS = 10 * 60_000;

/** Every emitter and listener set made below; afterEach ends whatever a failed test left pending. */
const made: { signals: EventEmitter; stops: StopSignals }[] = [];
afterEach(() => {
  for (const { signals, stops } of made.splice(0)) {
    signals.emit('SIGINT');
    signals.emit('SIGINT');
    stops.dispose();
  }
});

/** SIGTERM + SIGINT listeners on `signals`. */
const listenersOn = (signals: EventEmitter): number =>
  signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT');

function setup(signal?: AbortSignal) {
  const signals = new EventEmitter();
  const stops = stopSignals(signals, signal);
  made.push({ signals, stops });
  const sink = new MemorySink();
  return { signals, stops, sink, logger: createJsonLogger({ stream: sink }) };
}

/** `p` as `finished`, and whether it has settled yet as `done()`. */
function settled(p: Promise<void>): { finished: Promise<void>; done: () => boolean } {
  let done = false;
  const finished = p.then(() => {
    done = true;
  });
  return { finished, done: () => done };
}

function waitFor(delayMs: number, signal?: AbortSignal) {
  const { signals, stops, sink, logger } = setup(signal);
  let drains = 0;
  const run = settled(
    untilShutdown({ server: { beginDrain: () => void drains++ }, delayMs, logger, stops }),
  );
  return {
    signals,
    stops,
    ...run,
    drains: () => drains,
    messages: () => sink.lines.map((l) => l['msg']),
    listeners: () => listenersOn(signals),
  };
}

/** Let pending promise callbacks and I/O run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('untilShutdown', () => {
  describe('when SIGTERM arrives with a delay configured', () => {
    it('turns readiness off, logs the delay once and keeps waiting until a second SIGTERM', async () => {
      const s = waitFor(LONG_MS);
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
    });

    it('ends the delay on a second SIGTERM sent right after the first (none is lost between phases)', async () => {
      const s = waitFor(LONG_MS);
      s.signals.emit('SIGTERM');
      s.signals.emit('SIGTERM');
      await s.finished;
      expect(s.drains()).toBe(1);
    });

    it('ends the wait by itself after the delay', async () => {
      const s = waitFor(10);
      s.signals.emit('SIGTERM');
      await s.finished;
      expect(s.drains()).toBe(1);
      expect(s.messages()).toEqual([
        'shutting down: readiness off, serving for 0.01 s while endpoints update',
      ]);
    });

    it('ends the wait on SIGINT', async () => {
      const s = waitFor(LONG_MS);
      s.signals.emit('SIGTERM');
      await settle();
      expect(s.done()).toBe(false);
      s.signals.emit('SIGINT');
      await s.finished;
    });

    it('ends the wait when its own signal aborts', async () => {
      const controller = new AbortController();
      const s = waitFor(LONG_MS, controller.signal);
      s.signals.emit('SIGTERM');
      await settle();
      expect(s.done()).toBe(false);
      controller.abort();
      await s.finished;
    });
  });

  describe('when the delay is skipped', () => {
    it('returns at once on SIGINT (Ctrl-C), readiness untouched', async () => {
      const s = waitFor(LONG_MS);
      s.signals.emit('SIGINT');
      await s.finished;
      expect([s.drains(), s.messages()]).toEqual([0, []]);
    });

    it('returns at once when its own signal aborts', async () => {
      const controller = new AbortController();
      const s = waitFor(LONG_MS, controller.signal);
      controller.abort();
      await s.finished;
      expect([s.drains(), s.messages()]).toEqual([0, []]);
    });

    it('returns at once when its signal was aborted before the call', async () => {
      const s = waitFor(LONG_MS, AbortSignal.abort());
      await s.finished;
      expect([s.drains(), s.messages()]).toEqual([0, []]);
    });

    it('returns at once on SIGTERM with shutdownDelaySeconds: 0', async () => {
      const s = waitFor(0);
      s.signals.emit('SIGTERM');
      await s.finished;
      expect([s.drains(), s.messages()]).toEqual([0, []]);
    });
  });

  describe('when it returns', () => {
    it('leaves the listeners in place until dispose()', async () => {
      const s = waitFor(LONG_MS);
      s.signals.emit('SIGINT');
      await s.finished;
      expect(s.listeners()).toBe(2);
      s.stops.dispose();
      expect(s.listeners()).toBe(0);
    });
  });
});

/** shutdown() against a fake server whose close() waits until finishClose() or closeAllConnections(). */
function shutdownWith(delayMs: number) {
  const { signals, stops, sink, logger } = setup();
  let cuts = 0;
  let finishClose = (): void => undefined;
  const closed = new Promise<void>((resolve) => (finishClose = resolve));
  // Every SIGTERM/SIGINT listener count seen when a listener went away.
  const leftAfterRemoval: number[] = [];
  signals.on('removeListener', () => leftAfterRemoval.push(listenersOn(signals)));
  const run = settled(
    shutdown({
      server: {
        beginDrain: () => undefined,
        close: () => closed,
        server: {
          closeAllConnections: () => {
            cuts++;
            finishClose();
          },
        },
      },
      delayMs,
      logger,
      stops,
    }),
  );
  return {
    signals,
    stops,
    ...run,
    finishClose: () => finishClose(),
    cuts: () => cuts,
    leftAfterRemoval,
    warnings: () => sink.lines.filter((l) => l['level'] === 'warn').map((l) => l['msg']),
    messages: () => sink.lines.map((l) => l['msg']),
  };
}

describe('shutdown', () => {
  describe('from the first SIGTERM through the delay and the drain', () => {
    it('never leaves SIGTERM or SIGINT without a listener until dispose()', async () => {
      const s = shutdownWith(LONG_MS);
      s.signals.emit('SIGTERM');
      await settle();
      expect([s.signals.listenerCount('SIGTERM'), s.signals.listenerCount('SIGINT')]).toEqual([
        1, 1,
      ]);
      s.signals.emit('SIGTERM'); // ends the delay
      await settle();
      expect(s.messages()).toContain('shutting down: draining in-flight requests');
      expect([s.signals.listenerCount('SIGTERM'), s.signals.listenerCount('SIGINT')]).toEqual([
        1, 1,
      ]);
      s.finishClose();
      await s.finished;
      expect(s.leftAfterRemoval).toEqual([]);
      expect(s.cuts()).toBe(0);

      s.stops.dispose();
      expect(s.leftAfterRemoval).toEqual([1, 0]);
    });
  });

  describe('when a signal arrives while in-flight requests drain', () => {
    it.each(['SIGTERM', 'SIGINT'])(
      'on %s logs one warning and cuts the remaining connections',
      async (name) => {
        const s = shutdownWith(0);
        s.signals.emit('SIGINT');
        await settle();
        expect(s.messages()).toEqual(['shutting down: draining in-flight requests']);
        expect([s.done(), s.cuts()]).toEqual([false, 0]);

        s.signals.emit(name);
        await settle();
        expect(s.cuts()).toBe(1);
        await s.finished;
        expect(s.warnings()).toEqual([`${name} while draining: closing the remaining connections`]);

        s.signals.emit('SIGTERM');
        await settle();
        expect([s.cuts(), s.warnings().length]).toEqual([1, 1]);
      },
    );
  });

  describe('when the drain ends by itself', () => {
    it('cuts nothing, even on a later signal', async () => {
      const s = shutdownWith(0);
      s.signals.emit('SIGTERM');
      await settle();
      s.finishClose();
      await s.finished;
      s.signals.emit('SIGTERM');
      await settle();
      expect([s.cuts(), s.warnings()]).toEqual([0, []]);
    });
  });
});

describe('runServe', () => {
  describe('when stopped by SIGINT', () => {
    it('keeps its signal listeners until after the final flush, then removes them and returns 0', async () => {
      const signals = new EventEmitter();
      const stdout = new MemorySink();
      const stderr = new MemorySink();
      // The msgs written to stdout when a SIGTERM/SIGINT listener went away.
      const writtenAtRemoval: unknown[][] = [];
      signals.on('removeListener', () => writtenAtRemoval.push(stdout.lines.map((l) => l['msg'])));
      const exited = runServe(
        [
          ...['--policies', 'policies', '--dev-cert'],
          ...['--host', '127.0.0.1', '--port', '0', '--metrics-port', '0'],
        ],
        {
          stdout: stdout as unknown as NodeJS.WritableStream,
          stderr: stderr as unknown as NodeJS.WritableStream,
          stdin: Readable.from([]),
          env: {},
          isTTY: false,
        },
        undefined,
        signals,
      );
      let serving = false;
      for (let i = 0; i < 1500 && !serving; i++) {
        serving = stdout.lines.some((l) => l['msg'] === 'trustgate is serving');
        if (!serving) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(serving).toBe(true);
      expect(listenersOn(signals)).toBe(2);

      signals.emit('SIGINT');
      expect(await exited).toBe(0);
      expect(listenersOn(signals)).toBe(0);
      expect(writtenAtRemoval).toHaveLength(2);
      for (const msgs of writtenAtRemoval) expect(msgs[msgs.length - 1]).toBe('stopped');
    });
  });
});
