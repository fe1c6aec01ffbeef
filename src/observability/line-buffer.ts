// SPDX-License-Identifier: Apache-2.0
// Coalesces log lines into one write per event-loop turn. process.stdout on a pipe (a container
// runtime's log pipe) writes synchronously on Linux: one write(2) per audit line is a measurable
// part of the warm admission path, and under load many answers are produced in the same turn.

import type { LogSink } from './logger.js';

/** Flush at once when this many characters are pending (bounds memory under any burst). */
export const MAX_PENDING_CHARS = 64 * 1024;

export interface BufferedSink extends LogSink {
  /** Write everything pending now (call before exiting: nothing is written after process.exit). */
  flush(): void;
  /** Characters written but not flushed yet. */
  readonly pendingChars: number;
}

export interface BufferedSinkOptions {
  /** Defaults to {@link MAX_PENDING_CHARS}. */
  readonly maxPendingChars?: number;
  /** How a flush is deferred; defaults to `setImmediate` (after this turn's I/O callbacks). */
  readonly schedule?: (flush: () => void) => void;
}

/**
 * A sink that keeps the chunks written during one event-loop turn and writes them to `sink` as
 * one chunk afterwards, in order. Lines are never dropped or reordered; they reach `sink` at the
 * latest at the end of the turn, or when {@link BufferedSink.flush} is called.
 */
export function createBufferedSink(sink: LogSink, opts: BufferedSinkOptions = {}): BufferedSink {
  const maxPending = opts.maxPendingChars ?? MAX_PENDING_CHARS;
  const schedule = opts.schedule ?? ((fn: () => void) => void setImmediate(fn));
  let pending = '';
  let scheduled = false;

  const flush = (): void => {
    if (pending === '') return;
    const chunk = pending;
    pending = '';
    sink.write(chunk);
  };
  const scheduledFlush = (): void => {
    scheduled = false;
    flush();
  };

  return {
    write(chunk: string): boolean {
      pending += chunk;
      if (pending.length >= maxPending) flush();
      else if (!scheduled) {
        scheduled = true;
        schedule(scheduledFlush);
      }
      return true;
    },
    flush,
    get pendingChars() {
      return pending.length;
    },
  };
}
