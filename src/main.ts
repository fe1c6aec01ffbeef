// SPDX-License-Identifier: Apache-2.0
// Composition root and CLI dispatch: the only place that reads argv and the environment.
// Each command module receives what it needs as parameters.

import { ConfigError, InconclusiveError, TrustgateError } from './core/errors.js';
import { EXIT } from './cli/output.js';

export const USAGE = `trustgate — admit only signed, policy-conforming container images

Usage:
  trustgate serve   [--config FILE] [--policies DIR] [--port 8443] [--metrics-port 9090]
                    [--tls-cert FILE --tls-key FILE | --dev-cert] [--kubeconfig FILE]
  trustgate verify  IMAGE... --policy PATH [--at RFC3339] [--output text|json] [--config FILE]
  trustgate inspect IMAGE --server URL [--root-key PEM-FILE|KEY-ID]... [--ca-bundle FILE]
                    [--at RFC3339] [--output text|json]
  trustgate review  FILE|- --policy PATH [--at RFC3339] [--config FILE]
  trustgate policy validate FILE...
  trustgate policy convert FILE

Exit codes: 0 allowed/valid, 1 denied/invalid, 2 usage or configuration error,
3 inconclusive (a trust source could not be reached).
`;

/** Streams and environment a command may use (injected so tests can capture output). */
export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isTTY: boolean;
}

/** Run the CLI; resolves to the process exit code. Never throws. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: Partial<Io> = {},
): Promise<number> {
  const fullIo: Io = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    stdin: io.stdin ?? process.stdin,
    env,
    isTTY: io.isTTY ?? Boolean(process.stderr.isTTY),
  };
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await (await import('./cli/serve.js')).runServe(rest, fullIo);
      case 'verify':
        return await (await import('./cli/verify.js')).runVerify(rest, fullIo);
      case 'inspect':
        return await (await import('./cli/inspect.js')).runInspect(rest, fullIo);
      case 'review':
        return await (await import('./cli/review.js')).runReview(rest, fullIo);
      case 'policy':
        return await (await import('./cli/policy.js')).runPolicy(rest, fullIo);
      case 'sign':
        throw new ConfigError(
          'USAGE',
          'trustgate sign is not available in this version: sign with the notation CLI (Notation) or the notary/docker CLI (DCT)',
        );
      case undefined:
        // No command is a usage error: the help goes where errors go, so a script's stdout stays clean.
        fullIo.stderr.write(USAGE);
        return EXIT.usage;
      case 'help':
      case '--help':
      case '-h':
        fullIo.stdout.write(USAGE);
        return EXIT.ok;
      default:
        throw new ConfigError('USAGE', `unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    }
  } catch (err) {
    return reportError(err, fullIo);
  }
}

function reportError(err: unknown, io: Io): number {
  if (err instanceof ConfigError) {
    io.stderr.write(`trustgate: ${err.message}\n`);
    for (const e of err.fieldErrors) {
      // `file:line: path: message`, leaving out the parts that are unknown.
      const where = e.file !== undefined ? `${e.file}${e.line !== undefined ? `:${e.line}` : ''}: ` : e.line !== undefined ? `line ${e.line}: ` : '';
      io.stderr.write(`  ${where}${e.path !== '' ? `${e.path}: ` : ''}${e.message}\n`);
    }
    return EXIT.usage;
  }
  if (err instanceof TrustgateError) {
    io.stderr.write(`trustgate: ${err.code}: ${err.message}\n`);
    // Every inconclusive code (unreachable, deadline, size cap) means "could not decide": exit 3.
    return err instanceof InconclusiveError ? EXIT.inconclusive : EXIT.denied;
  }
  io.stderr.write(`trustgate: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT.usage;
}
