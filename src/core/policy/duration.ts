// SPDX-License-Identifier: Apache-2.0
// Policy durations (`allow.expires`): one or more `<number><unit>` groups, units s m h d w,
// e.g. `15d`, `12h`, `1h30m`, `2w`.

import { ConfigError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

// Each group is a bounded run of digits and one unit letter: linear to match.
const DURATION = /^(?:\d{1,6}[smhdw])+$/;
const GROUP = /(\d{1,6})([smhdw])/g;
const MAX_LENGTH = 64;
// Keeps every sum a safe integer and every `now + duration` a valid Date.
const MAX_MS = 100 * 365 * 86_400_000;

/** How to write a duration, for error messages. */
export const DURATION_HINT = 'use a number and a unit (s, m, h, d, w), e.g. 30m, 12h, 15d, 2w';

/**
 * Parse a policy duration into milliseconds.
 * @throws ConfigError INVALID_POLICY when the text is not a positive duration.
 */
export function parseDuration(text: string): number {
  if (text.length > MAX_LENGTH || !DURATION.test(text)) {
    throw new ConfigError(
      'INVALID_POLICY',
      `${JSON.stringify(text)} is not a duration; ${DURATION_HINT}`,
    );
  }
  let ms = 0;
  for (const m of text.matchAll(GROUP)) {
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  if (ms <= 0) {
    throw new ConfigError(
      'INVALID_POLICY',
      `${JSON.stringify(text)} is zero; a duration must be positive`,
    );
  }
  if (ms > MAX_MS) {
    throw new ConfigError('INVALID_POLICY', `${JSON.stringify(text)} is longer than 100 years`);
  }
  return ms;
}
