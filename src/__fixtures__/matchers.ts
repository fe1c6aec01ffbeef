// SPDX-License-Identifier: Apache-2.0
// Custom Jest matchers: assert on the error class and stable code, not on message text.

import { expect } from '@jest/globals';
import { TrustgateError } from '../core/errors.js';

type ErrorClass = abstract new (...args: never[]) => TrustgateError;

function check(
  received: unknown,
  cls: ErrorClass,
  code: string,
): { pass: boolean; message: () => string } {
  const ok = received instanceof cls && received.code === code;
  const got =
    received instanceof TrustgateError
      ? `${received.constructor.name}(${received.code}): ${received.message}`
      : received instanceof Error
        ? `${received.constructor.name}: ${received.message}`
        : String(received);
  return {
    pass: ok,
    message: () => `expected ${cls.name}(${code})${ok ? ' not' : ''}, got ${got}`,
  };
}

expect.extend({
  toThrowWithCode(received: unknown, cls: ErrorClass, code: string) {
    if (typeof received === 'function') {
      try {
        (received as () => unknown)();
      } catch (err) {
        return check(err, cls, code);
      }
      return {
        pass: false,
        message: () => `expected ${cls.name}(${code}), but nothing was thrown`,
      };
    }
    return check(received, cls, code);
  },
});

declare module 'expect' {
  interface Matchers<R> {
    /** The function throws (or the value is) an instance of `cls` with `code`. For promises: `await expect(p).rejects.toThrowWithCode(...)`. */
    toThrowWithCode(cls: ErrorClass, code: string): R;
  }
}
