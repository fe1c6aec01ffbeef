// SPDX-License-Identifier: Apache-2.0
// A closed-loop, one-connection HTTPS client with µs timing (autocannon's histogram is whole
// milliseconds, perf-baseline §Method): one raw TLS socket, keep-alive, one request in flight.

import tls from 'node:tls';

export interface ClosedLoopResult {
  /** Per-request latencies in µs, in order. */
  readonly latenciesUs: number[];
  /** Answers that were not `200` with `"allowed":true`. */
  readonly bad: number;
  readonly seconds: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** The raw HTTP/1.1 request bytes for `POST path` with a JSON body. */
export function rawPost(port: number, path: string, body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  const head =
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, */*\r\nContent-Length: ${b.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

/**
 * Send `request` over one TLS connection, one at a time, for `durationMs` or `maxRequests`
 * (whichever comes first). Each latency is from the write to the last byte of the answer.
 * @throws Error when the connection fails or an answer does not arrive within 5 s.
 */
export async function closedLoop(
  port: number,
  request: Buffer,
  durationMs: number,
  maxRequests: number,
): Promise<ClosedLoopResult> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    rejectUnauthorized: false,
    servername: 'localhost',
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  socket.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  let onAnswer: ((answer: Buffer) => void) | undefined;
  let failure: Error | undefined;
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const end = buf.indexOf(HEADER_END);
    if (end < 0) return;
    const head = buf.subarray(0, end).toString('latin1');
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const total = end + 4 + Number(m?.[1] ?? 0);
    if (buf.length < total) return;
    const answer = buf.subarray(0, total);
    buf = buf.subarray(total);
    onAnswer?.(answer);
  });
  socket.on('error', (err: Error) => {
    failure = err;
  });

  const latenciesUs: number[] = [];
  let bad = 0;
  const started = process.hrtime.bigint();
  const until = started + BigInt(durationMs) * 1_000_000n;
  try {
    for (let i = 0; i < maxRequests; i++) {
      const t0 = process.hrtime.bigint();
      if (t0 >= until) break;
      const answer = await new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(failure ?? new Error('no answer within 5 s')), 5000);
        onAnswer = (a) => {
          clearTimeout(timer);
          resolve(a);
        };
        socket.write(request);
      });
      latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (
        !answer.subarray(0, 12).toString('latin1').endsWith('200') ||
        !answer.includes('"allowed":true')
      )
        bad++;
    }
  } finally {
    socket.destroy();
  }
  return { latenciesUs, bad, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
