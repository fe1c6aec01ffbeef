// SPDX-License-Identifier: Apache-2.0
// Benchmark child: trustgate's real admission edge (createAdmissionServer + createAdmissionHandler
// + buildVerifier's DefaultImageVerifier), wired as `trustgate serve --policies` does, with every
// verdict primed once against the real notary-server and registry. Audit lines go to stdout
// (a pipe the parent drains, as a container runtime's log pipe would be).

import { createAdmissionHandler } from '../../src/admission/handler.js';
import { createAdmissionServer } from '../../src/admission/server.js';
import { buildVerifier } from '../../src/app.js';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { PolicyStore } from '../../src/k8s/policy-store.js';
import { createBufferedSink } from '../../src/observability/line-buffer.js';
import { createJsonLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createDeadline } from '../../src/verify/deadline.js';
import { systemClock } from '../../src/verify/ports.js';
import { compilePolicies } from '../lib/verifier.js';

export interface TrustgateServerStart {
  readonly type: 'start';
  readonly certPem: string;
  readonly keyPem: string;
  readonly policyYaml: string;
  /** Images of the benchmark Pod: verified once before the server listens. */
  readonly images: readonly string[];
}

async function start(msg: TrustgateServerStart): Promise<void> {
  const config = DEFAULT_CONFIG;
  // As `trustgate serve` wires it: lines coalesced per flush interval, flushed before exit.
  const out = createBufferedSink(process.stdout);
  process.on('exit', () => out.flush());
  const logger = createJsonLogger({ stream: out, base: { component: 'trustgate' } });
  const metrics = createMetrics({ defaultMetrics: true });
  const store = new PolicyStore();
  for (const p of compilePolicies(msg.policyYaml)) store.upsert(p.id, p);
  store.markReady();
  const bundle = buildVerifier({
    config,
    policies: store,
    clock: systemClock,
    metrics,
    registry: true,
  });

  const verdicts = await bundle.verifier.verifyImages(
    msg.images.map((image, i) => ({ image, path: `spec.containers[${i}].image` })),
    { namespace: 'default', deadline: createDeadline(10_000) },
  );
  const denied = verdicts.filter((v) => !v.allowed);
  if (denied.length > 0)
    throw new Error(`priming failed: ${JSON.stringify(denied.map((v) => v.reasons))}`);

  const handler = createAdmissionHandler({
    verifier: bundle.verifier,
    clock: systemClock,
    logger,
    metrics,
    defaultTimeoutMs: config.defaultTimeoutMs,
    marginMs: config.timeoutMarginMs,
    mutate: config.mutate,
  });
  const server = createAdmissionServer({
    handler,
    tls: { certPem: msg.certPem, keyPem: msg.keyPem },
    ready: () => store.ready(),
    logger,
  });
  const addr = await server.listen(0, '127.0.0.1');

  process.on('message', (m: { type: string }) => {
    if (m.type !== 'stats') return;
    void metrics.render().then((text) => {
      const pick = (re: RegExp): number =>
        text
          .split('\n')
          .filter((l) => re.test(l))
          .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      process.send?.({
        type: 'stats',
        verdictHits: pick(/^trustgate_cache_requests_total\{.*cache="verdict".*result="hit"/),
        verdictMisses: pick(/^trustgate_cache_requests_total\{.*cache="verdict".*result="miss"/),
        tagMisses: pick(/^trustgate_cache_requests_total\{.*cache="tag".*result="miss"/),
        verifications: pick(/^trustgate_verifications_total\{/),
        cachedOutcomes: bundle.outcomeCache.size,
      });
    });
  });
  process.once('SIGTERM', () => {
    void server
      .close(1000)
      .then(() => bundle.close())
      .then(() => process.exit(0));
  });
  process.send?.({
    type: 'ready',
    port: addr.port,
    primed: verdicts.map((v) => ({ image: v.image, digest: v.digest })),
  });
}

process.once('message', (msg: TrustgateServerStart) => {
  start(msg).catch((err: unknown) => {
    process.stderr.write(
      `trustgate bench server failed: ${err instanceof Error ? err.stack : String(err)}\n`,
    );
    process.exit(1);
  });
});
