// SPDX-License-Identifier: Apache-2.0
// Benchmark child: the SPEC §7 baseline, a bare node:https server with the same TLS and
// keep-alive settings as trustgate's edge that reads and JSON-parses the body and returns a
// fixed AdmissionReview echoing the request uid.

import https from 'node:https';
import type { AddressInfo } from 'node:net';

interface Start {
  readonly type: 'start';
  readonly certPem: string;
  readonly keyPem: string;
}

function start(msg: Start): void {
  const server = https.createServer(
    {
      cert: msg.certPem,
      key: msg.keyPem,
      minVersion: 'TLSv1.2',
      keepAliveTimeout: 65_000,
      requestTimeout: 40_000,
      headersTimeout: 15_000,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          request?: { uid?: string };
        };
        const body = JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: doc.request?.uid ?? '', allowed: true },
        });
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
      });
    },
  );
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

process.once('message', (msg: Start) => start(msg));
