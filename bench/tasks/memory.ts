// SPDX-License-Identifier: Apache-2.0
// Benchmark child (run with --expose-gc): RSS and heap growth from 10,000 cached verdicts in the
// verifier's TtlCache, with keys built exactly as DefaultImageVerifier builds them and
// realistic SourceOutcome values (90 % verified digests, 10 % cached definite denials).

import { randomBytes } from 'node:crypto';
import { TtlCache } from '../../src/cache/ttl-cache.js';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import type { SourceOutcome } from '../../src/core/result.js';
import { outcomeKey } from '../../src/verify/image-verifier.js';
import { systemClock } from '../../src/verify/ports.js';

declare const gc: (() => void) | undefined;

export interface MemoryResult {
  readonly entries: number;
  readonly rssMB: number;
  readonly heapUsedMB: number;
  readonly externalMB: number;
  readonly bytesPerEntry: number;
  readonly avgKeyChars: number;
}

const MB = 1024 * 1024;

function collect(): NodeJS.MemoryUsage {
  if (typeof gc !== 'function') throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage();
}

function run(entries: number): MemoryResult {
  const materialHash = randomBytes(32).toString('hex');
  const registries = [
    'registry.example.com',
    'ghcr.io',
    'docker.io',
    '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
  ];
  const before = collect();
  const cache = new TtlCache<string, SourceOutcome>({
    maxEntries: DEFAULT_CONFIG.cache.maxEntries,
    clock: systemClock,
  });
  const until = Date.now() + DEFAULT_CONFIG.cache.maxTtlMs;
  let keyChars = 0;
  for (let i = 0; i < entries; i++) {
    const team = `team-${i % 50}`;
    const repo = `${registries[i % registries.length]}/${team}/service-${Math.floor(i / 4)}`;
    const digest = `sha256:${randomBytes(32).toString('hex')}`;
    const reference = i % 3 === 0 ? `${repo}@${digest}` : `${repo}:v${i % 20}.${i % 7}.${i % 13}`;
    const policyId = `ClusterTrustPolicy/${team}-signed`;
    const key = outcomeKey({
      policy: { id: policyId, generation: String(1000 + (i % 50)) },
      source: { kind: 'notaryV1', name: 'notary', materialHash },
      reference,
      at: undefined,
    });
    keyChars += key.length;
    const value: SourceOutcome =
      i % 10 === 9
        ? {
            ok: false,
            source: 'notary',
            definite: true,
            reason: {
              code: 'TAG_NOT_SIGNED',
              message: `tag v${i % 20}.${i % 7}.${i % 13} of ${repo} is not signed by targets/releases or targets`,
              policy: policyId,
              source: 'notary',
            },
          }
        : {
            ok: true,
            source: 'notary',
            digest,
            signers: ['targets/releases'],
            validUntil: new Date(until),
          };
    cache.set(key, value, DEFAULT_CONFIG.cache.maxTtlMs);
  }
  if (cache.size !== entries)
    throw new Error(`cache holds ${cache.size} entries, expected ${entries}`);
  const after = collect();
  // Keep the cache reachable until after the measurement.
  if (cache.size === 0) process.stderr.write('empty\n');
  return {
    entries,
    rssMB: (after.rss - before.rss) / MB,
    heapUsedMB: (after.heapUsed - before.heapUsed) / MB,
    externalMB: (after.external - before.external) / MB,
    bytesPerEntry: (after.heapUsed - before.heapUsed) / entries,
    avgKeyChars: keyChars / entries,
  };
}

process.once('message', (msg: { type: 'start'; entries: number }) => {
  try {
    process.send?.({ type: 'result', result: run(msg.entries) }, () => process.exit(0));
  } catch (err) {
    process.stderr.write(`memory task failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  }
});
