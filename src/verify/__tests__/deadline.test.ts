// SPDX-License-Identifier: Apache-2.0
// Request deadlines: one signal per request that many upstream calls listen on at once.
import { describe, expect, it } from '@jest/globals';
import { getMaxListeners } from 'node:events';
import {
  createDeadline,
  createLazyDeadline,
  MAX_SIGNAL_LISTENERS,
  remainingMs,
} from '../deadline.js';

describe('createDeadline', () => {
  it('has a signal that every in-flight call of a request can listen on (no leak warning)', () => {
    expect(getMaxListeners(createDeadline(5000).signal)).toBe(MAX_SIGNAL_LISTENERS);
    // Node's default, which a Pod with two cold images already passes.
    expect(MAX_SIGNAL_LISTENERS).toBeGreaterThan(10);
  });

  it('has a signal that also follows a parent signal, with the same bound', () => {
    const parent = new AbortController();
    const d = createDeadline(5000, parent.signal);
    expect(getMaxListeners(d.signal)).toBe(MAX_SIGNAL_LISTENERS);
    parent.abort();
    expect(d.signal.aborted).toBe(true);
  });
});

describe('createLazyDeadline', () => {
  it('builds its signal on first read, with the same bound, and keeps it', () => {
    const d = createLazyDeadline(5000);
    expect(remainingMs(d)).toBeGreaterThan(0);
    const signal = d.signal;
    expect(d.signal).toBe(signal);
    expect(getMaxListeners(signal)).toBe(MAX_SIGNAL_LISTENERS);
  });

  it('aborts when its time is up', async () => {
    const signal = createLazyDeadline(1).signal;
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    expect(signal.aborted).toBe(true);
  });
});
