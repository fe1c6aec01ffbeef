// SPDX-License-Identifier: Apache-2.0
// Composition root and CLI dispatch: the only place that reads argv and the environment.
// Each command module receives what it needs as parameters.

import { ConfigError, InconclusiveError, TrustgateError, type FieldError } from './core/errors.js';
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

type Command = (argv: readonly string[], io: Io) => Promise<number>;

/** Command modules load on first use: `verify` does not pay for the webhook's imports. */
const COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['serve', async (argv, io) => (await import('./cli/serve.js')).runServe(argv, io)],
  ['verify', async (argv, io) => (await import('./cli/verify.js')).runVerify(argv, io)],
  ['inspect', async (argv, io) => (await import('./cli/inspect.js')).runInspect(argv, io)],
  ['review', async (argv, io) => (await import('./cli/review.js')).runReview(argv, io)],
  ['policy', async (argv, io) => (await import('./cli/policy.js')).runPolicy(argv, io)],
  [
    'sign',
    () =>
      Promise.reject(
        new ConfigError(
          'USAGE',
          'trustgate sign is not available in this version: sign with the notation CLI (Notation) or the notary/docker CLI (DCT)',
        ),
      ),
  ],
  ['help', showHelp],
  ['--help', showHelp],
  ['-h', showHelp],
]);

function showHelp(_argv: readonly string[], io: Io): Promise<number> {
  io.stdout.write(USAGE);
  return Promise.resolve(EXIT.ok);
}

function withDefaults(io: Partial<Io>, env: Io['env']): Io {
  return {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    stdin: io.stdin ?? process.stdin,
    env,
    isTTY: io.isTTY ?? Boolean(process.stderr.isTTY),
  };
}

/** Run the CLI; resolves to the process exit code. Never throws. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: Partial<Io> = {},
): Promise<number> {
  const fullIo = withDefaults(io, env);
  const [command, ...rest] = argv;
  if (command === undefined) {
    // No command is a usage error: the help goes where errors go, so a script's stdout stays clean.
    fullIo.stderr.write(USAGE);
    return EXIT.usage;
  }
  try {
    const run = COMMANDS.get(command);
    if (run === undefined) {
      throw new ConfigError('USAGE', `unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    }
    return await run(rest, fullIo);
  } catch (err) {
    return reportError(err, fullIo);
  }
}

/** `file:line: path: message` for one field error, leaving out the parts that are unknown. */
function fieldErrorLine(e: FieldError): string {
  const line = e.line !== undefined ? `:${e.line}` : '';
  const where =
    e.file !== undefined ? `${e.file}${line}: ` : e.line !== undefined ? `line ${e.line}: ` : '';
  return `  ${where}${e.path !== '' ? `${e.path}: ` : ''}${e.message}\n`;
}

function reportError(err: unknown, io: Io): number {
  if (err instanceof ConfigError) {
    io.stderr.write(`trustgate: ${err.message}\n`);
    for (const e of err.fieldErrors) io.stderr.write(fieldErrorLine(e));
    return EXIT.usage;
  }
  if (err instanceof TrustgateError) {
    io.stderr.write(`trustgate: ${err.code}: ${err.message}\n`);
    // Every inconclusive code (unreachable, deadline, size cap) means "could not decide": exit 3.
    return err instanceof InconclusiveError ? EXIT.inconclusive : EXIT.denied;
  }
  io.stderr.write(
    `trustgate: internal error: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  return EXIT.usage;
}
