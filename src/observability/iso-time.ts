// SPDX-License-Identifier: Apache-2.0
// `Date.prototype.toISOString` for log timestamps without the runtime call per line: every
// admission answer writes two timestamps (`time`, `decidedAt`), and toISOString costs more than
// the rest of the audit record's bookkeeping. The `YYYY-MM-DDTHH:MM:` prefix only changes once
// a minute, so it is kept; seconds and milliseconds are formatted by hand.

const MINUTE_MS = 60_000;
/** toISOString switches to ±YYYYYY outside years 0000–9999; such dates take the built-in. */
const MIN_FAST_MS = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_FAST_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** The minute whose prefix is cached (`Math.floor(ms / 60000)`), and that prefix. */
let cachedMinute = Number.NaN;
let cachedPrefix = '';

/**
 * Exactly `date.toISOString()` (`2026-12-02T12:00:05.042Z`).
 * @throws RangeError for an invalid date, like `toISOString`.
 */
export function toIsoString(date: Date): string {
  const ms = date.getTime();
  if (!(ms >= MIN_FAST_MS && ms <= MAX_FAST_MS)) return date.toISOString();
  const minute = Math.floor(ms / MINUTE_MS);
  if (minute !== cachedMinute) {
    // '2026-12-02T12:00:05.042Z'.slice(0, 17) === '2026-12-02T12:00:'
    cachedPrefix = new Date(minute * MINUTE_MS).toISOString().slice(0, 17);
    cachedMinute = minute;
  }
  const inMinute = ms - minute * MINUTE_MS;
  const s = Math.floor(inMinute / 1000);
  const milli = inMinute - s * 1000;
  return (
    cachedPrefix +
    (s < 10 ? '0' : '') +
    s +
    (milli < 10 ? '.00' : milli < 100 ? '.0' : '.') +
    milli +
    'Z'
  );
}
