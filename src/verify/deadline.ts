// SPDX-License-Identifier: Apache-2.0
// Deadlines: one absolute instant and one AbortSignal per request, shared by every upstream call.

import { setMaxListeners } from 'node:events';
import { LIMITS } from '../core/limits.js';
import type { Deadline } from './ports.js';

/**
 * Every upstream call of a request listens on the request's one signal while it is in flight
 * (undici adds an `abort` listener per fetch). A Pod with a few cold images has more than Node's
 * default of 10 in flight, and Node would then print a "possible memory leak" warning that is
 * no leak: the listeners go when the calls end. The bound is the most a request can have:
 * every image of the largest review with each of its concurrent fetches.
 */
export const MAX_SIGNAL_LISTENERS = LIMITS.maxImagesPerReview * 16;

function requestSignal(ms: number, parent: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(0, ms));
  const signal = parent ? AbortSignal.any([timeout, parent]) : timeout;
  setMaxListeners(MAX_SIGNAL_LISTENERS, signal);
  return signal;
}

/** A deadline `ms` from now, optionally also cancelled by a parent signal. */
export function createDeadline(ms: number, parent?: AbortSignal): Deadline {
  return { signal: requestSignal(ms, parent), expiresAt: Date.now() + ms };
}

/** Milliseconds left before the deadline (never negative). */
export function remainingMs(deadline: Deadline): number {
  return Math.max(0, deadline.expiresAt - Date.now());
}

/**
 * Like {@link createDeadline}, but the AbortSignal (and its timer) is only created when
 * `signal` is first read. `AbortSignal.timeout` costs ~13 µs per call on Node 20; a warm
 * admission request answered from cache never reads the signal (perf-baseline §3).
 */
export function createLazyDeadline(ms: number, parent?: AbortSignal): Deadline {
  const expiresAt = Date.now() + ms;
  let signal: AbortSignal | undefined;
  return {
    expiresAt,
    get signal(): AbortSignal {
      signal ??= requestSignal(expiresAt - Date.now(), parent);
      return signal;
    },
  };
}
