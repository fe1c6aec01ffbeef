// SPDX-License-Identifier: Apache-2.0
// §7 single flight: 100 admission requests for one uncached image arrive at once over 100
// established HTTPS connections; the counting TUF proxy in front of notary-server shows how
// often each metadata file was fetched (target: exactly once each).

import https from 'node:https';
import { createAdmissionHandler } from '../../src/admission/handler.js';
import { createAdmissionServer } from '../../src/admission/server.js';
import type { ImageVerifier } from '../../src/verify/ports.js';
import { DispatcherPool } from '../../src/registry/http.js';
import { noopLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { systemClock } from '../../src/verify/ports.js';
import { startTufProxy } from '../../test/support/tuf-proxy.js';
import { podAdmissionReview } from '../lib/admission-review.js';
import type { SignedImage } from '../lib/fixtures.js';
import {
  benchPolicyYaml,
  compilePolicies,
  freshVerifier,
  staticPolicies,
} from '../lib/verifier.js';

export interface ConcurrentResult {
  readonly requests: number;
  readonly allowed: number;
  /** Most verifyImages calls in flight at the same time (≈ requests when they truly overlapped). */
  readonly maxInFlight: number;
  /** Requests per TUF path seen by the proxy. */
  readonly fetches: Record<string, number>;
  /** Registry tag lookups (the digest cross-check). */
  readonly registryLookups: number;
  readonly wallMs: number;
}

function request(
  agent: https.Agent,
  port: number,
  call: { method: string; path: string; body?: string },
): Promise<{ status: number; body: string }> {
  const { method, path, body } = call;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent,
        timeout: 20_000,
        headers: body ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Fire `n` simultaneous reviews of `image` (uncached) at an in-process admission server. */
export async function runConcurrent(o: {
  notaryUrl: string;
  registryHost: string;
  image: SignedImage;
  rootKeyIds: readonly string[];
  certPem: string;
  keyPem: string;
  n: number;
}): Promise<ConcurrentResult> {
  const proxy = await startTufProxy(o.notaryUrl);
  const pool = new DispatcherPool();
  const policies = staticPolicies(
    compilePolicies(
      benchPolicyYaml({
        registryHost: o.registryHost,
        notaryUrl: proxy.url,
        rootKeyIds: o.rootKeyIds,
      }),
    ),
  );
  const fv = freshVerifier({ pool, policies, verifyRegistryDigest: true });
  let inFlight = 0;
  let maxInFlight = 0;
  const verifier: ImageVerifier = {
    async verifyImages(images, ctx) {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await fv.verifier.verifyImages(images, ctx);
      } finally {
        inFlight--;
      }
    },
  };
  const handler = createAdmissionHandler({
    verifier,
    clock: systemClock,
    logger: noopLogger,
    metrics: createMetrics(),
  });
  const server = createAdmissionServer({
    handler,
    tls: { certPem: o.certPem, keyPem: o.keyPem },
    ready: () => true,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const agent = new https.Agent({ keepAlive: true, maxSockets: o.n, rejectUnauthorized: false });
  try {
    // Open every connection first (TLS handshakes), so the reviews themselves arrive together.
    await Promise.all(
      Array.from({ length: o.n }, () => request(agent, port, { method: 'GET', path: '/healthz' })),
    );
    proxy.resetCounts();
    const body = podAdmissionReview([o.image.image]);
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: o.n }, () =>
        request(agent, port, { method: 'POST', path: '/validate?timeout=10s', body }),
      ),
    );
    const wallMs = performance.now() - t0;
    const allowed = answers.filter(
      (a) => a.status === 200 && a.body.includes('"allowed":true'),
    ).length;
    const prefix = `/v2/${o.image.gun}/_trust/tuf/`;
    const fetches: Record<string, number> = {};
    for (const [path, count] of proxy.counts()) {
      const name = path.startsWith(prefix)
        ? path.slice(prefix.length).replace(/\.[0-9a-f]{64}\.json$/, '.<sha256>.json')
        : path;
      fetches[name] = (fetches[name] ?? 0) + count;
    }
    return {
      requests: o.n,
      allowed,
      maxInFlight,
      fetches,
      registryLookups: fv.oci.resolveTagCalls,
      wallMs,
    };
  } finally {
    agent.destroy();
    await server.close(1000);
    await pool.close();
    await proxy.close();
  }
}
