// SPDX-License-Identifier: Apache-2.0
// `trustgate review FILE|- --policy PATH`: the webhook's handler offline — AdmissionReview in,
// AdmissionReview out — for testing policies against real objects without a cluster.

import { readFile } from 'node:fs/promises';
import { createAdmissionHandler } from '../admission/handler.js';
import { buildVerifier } from '../app.js';
import { ConfigError } from '../core/errors.js';
import type { ImageVerdict } from '../core/result.js';
import { LIMITS } from '../core/limits.js';
import type { Io } from '../main.js';
import { createMetrics } from '../observability/metrics.js';
import { noopLogger } from '../observability/logger.js';
import { systemClock, type ImageVerifier } from '../verify/ports.js';
import { flag, parseArgs, parseAt } from './args.js';
import { loadCliCredentials, loadConfigFile, loadPolicyFlag, staticPolicies } from './common.js';
import { EXIT, exitCodeFor } from './output.js';

async function readInput(file: string, io: Io): Promise<Buffer> {
  if (file !== '-') {
    try {
      return await readFile(file);
    } catch (err) {
      throw new ConfigError('USAGE', `cannot read ${file}: ${(err as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > LIMITS.maxAdmissionBodyBytes)
      throw new ConfigError('USAGE', `stdin exceeds ${LIMITS.maxAdmissionBodyBytes} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * The exit code of a denied review: by the verdicts (definite denial 1, inconclusive only 3), by
 * the handler's deadline backstop (a verification still running: 3), or by the handler otherwise
 * (internal error, too many images: 1).
 */
function deniedExit(verdicts: readonly ImageVerdict[], verificationUnfinished: boolean): number {
  if (verdicts.some((v) => !v.allowed)) return exitCodeFor(verdicts);
  return verificationUnfinished ? EXIT.inconclusive : EXIT.denied;
}

/** `trustgate review`: exit 0 allowed, 1 denied, 2 usage, 3 inconclusive (a source unreachable or too slow). */
export async function runReview(argv: readonly string[], io: Io): Promise<number> {
  const args = parseArgs(argv, {
    policy: { value: true },
    at: { value: true },
    config: { value: true },
    mutate: {},
    'no-registry': {},
  });
  const [file, ...extra] = args.positionals;
  if (file === undefined || extra.length > 0)
    throw new ConfigError('USAGE', 'review needs exactly one FILE (or - for stdin)');
  const at = parseAt(flag(args, 'at'));
  const config = await loadConfigFile(flag(args, 'config'));
  const policies = await loadPolicyFlag(flag(args, 'policy'));
  const registry = !args.flags.has('no-registry');
  const credentials = registry ? await loadCliCredentials(io.env) : undefined;
  const body = await readInput(file, io);

  const bundle = buildVerifier({
    config,
    policies: staticPolicies(policies),
    clock: systemClock,
    registry,
  });
  // `--at` evaluates as of that instant: pass it through every verification of this review. The
  // verdicts are kept for the exit code: a denial that is only inconclusive exits 3 (SPEC §5), and
  // so does the handler's own TIMEOUT, when a verification never finished.
  const verdicts: ImageVerdict[] = [];
  let unfinished = 0;
  const verifier: ImageVerifier = {
    verifyImages: async (images, ctx) => {
      unfinished++;
      const out = await bundle.verifier.verifyImages(images, { ...ctx, ...(at ? { at } : {}) });
      unfinished--;
      verdicts.push(...out);
      return out;
    },
  };
  try {
    const mutate = args.flags.has('mutate');
    const handler = createAdmissionHandler({
      verifier,
      clock: systemClock,
      logger: noopLogger,
      metrics: createMetrics(),
      ...(credentials ? { credentialsFor: () => Promise.resolve(credentials) } : {}),
      defaultTimeoutMs: 30_000,
      marginMs: config.timeoutMarginMs,
      mutate,
    });
    const query = new URLSearchParams();
    const reply = await (mutate ? handler.mutate(body, query) : handler.validate(body, query));
    io.stdout.write(`${reply.body}\n`);
    if (reply.status !== 200) return EXIT.usage;
    const parsed = JSON.parse(reply.body) as { response?: { allowed?: boolean } };
    return parsed.response?.allowed === true ? EXIT.ok : deniedExit(verdicts, unfinished > 0);
  } finally {
    await bundle.close();
  }
}
