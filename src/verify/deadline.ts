// SPDX-License-Identifier: Apache-2.0
// Deadlines: one absolute instant and one AbortSignal per request, shared by every upstream call.

import type { Deadline } from './ports.js';

/** A deadline `ms` from now, optionally also cancelled by a parent signal. */
export function createDeadline(ms: number, parent?: AbortSignal): Deadline {
  const timeout = AbortSignal.timeout(Math.max(0, ms));
  return {
    signal: parent ? AbortSignal.any([timeout, parent]) : timeout,
    expiresAt: Date.now() + ms,
  };
}

/** Milliseconds left before the deadline (never negative). */
export function remainingMs(deadline: Deadline): number {
  return Math.max(0, deadline.expiresAt - Date.now());
}
