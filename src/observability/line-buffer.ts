// SPDX-License-Identifier: Apache-2.0
// Coalesces log lines into one write every few milliseconds. process.stdout on a pipe (a
// container runtime's log pipe) writes synchronously on Linux: one write(2) per audit line is a
// measurable part of the warm admission path. At one connection every answer is its own
// event-loop turn, and a write per turn added 13–35 µs to each request's latency (the syscall,
// and waking the log reader), a tenth of the whole warm request.

import type { LogSink } from './logger.js';

/** Flush at once when this many characters are pending (bounds memory under any burst). */
export const MAX_PENDING_CHARS = 64 * 1024;

/**
 * The longest a line waits for its write. Short enough that logs read as live and that a
 * SIGKILL (which no flush survives) loses at most this much; long enough that a busy webhook
 * writes tens of lines per syscall.
 */
export const FLUSH_INTERVAL_MS = 10;

export interface BufferedSink extends LogSink {
  /** Write everything pending now (call before exiting: nothing is written after process.exit). */
  flush(): void;
  /** Characters written but not flushed yet. */
  readonly pendingChars: number;
}

export interface BufferedSinkOptions {
  /** Defaults to {@link MAX_PENDING_CHARS}. */
  readonly maxPendingChars?: number;
  /** How a flush is deferred; defaults to an unref'd {@link FLUSH_INTERVAL_MS} timer. */
  readonly schedule?: (flush: () => void) => void;
}

/**
 * A sink that keeps the chunks written and writes them to `sink` as one chunk when the scheduled
 * flush runs, in order. Lines are never dropped or reordered; they reach `sink` at the latest
 * {@link FLUSH_INTERVAL_MS} after the first of them, when {@link MAX_PENDING_CHARS} are pending,
 * or when {@link BufferedSink.flush} is called (the owner calls it on exit).
 */
export function createBufferedSink(sink: LogSink, opts: BufferedSinkOptions = {}): BufferedSink {
  const maxPending = opts.maxPendingChars ?? MAX_PENDING_CHARS;
  // unref: a pending flush must not keep a finished process alive; its exit handler flushes.
  const schedule =
    opts.schedule ?? ((fn: () => void) => void setTimeout(fn, FLUSH_INTERVAL_MS).unref());
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
