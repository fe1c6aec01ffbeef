// SPDX-License-Identifier: Apache-2.0
// `trustgate policy validate FILE...` and `trustgate policy convert FILE`.

import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';
import { convertSeedText } from '../policy-files/convert.js';
import { formatFieldError, loadPolicies } from '../policy-files/load.js';
import type { Io } from '../main.js';
import { parseArgs, type ParsedArgs } from './args.js';
import { EXIT } from './output.js';

type Subcommand = (args: ParsedArgs, io: Io) => Promise<number>;

const SUBCOMMANDS: ReadonlyMap<string, Subcommand> = new Map([
  ['validate', validate],
  ['convert', convert],
]);

/** `policy validate FILE...` | `policy convert FILE`. @throws ConfigError USAGE | INVALID_POLICY */
export async function runPolicy(argv: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const args = parseArgs(rest, {});
  const run = sub === undefined ? undefined : SUBCOMMANDS.get(sub);
  if (run === undefined) {
    throw new ConfigError(
      'USAGE',
      `policy needs a subcommand: validate FILE... | convert FILE (got ${JSON.stringify(sub ?? '')})`,
    );
  }
  return await run(args, io);
}

async function validate(args: ParsedArgs, io: Io): Promise<number> {
  if (args.positionals.length === 0)
    throw new ConfigError('USAGE', 'policy validate needs at least one FILE');
  let invalid = 0;
  for (const file of args.positionals) {
    const { policies, errors } = await loadPolicies(file);
    if (errors.length > 0) {
      invalid++;
      for (const e of errors) io.stdout.write(`${formatFieldError(e)}\n`);
    } else {
      io.stdout.write(
        `${file}: ${policies.length} ${policies.length === 1 ? 'policy' : 'policies'} valid (${policies.map((p) => p.id).join(', ')})\n`,
      );
    }
  }
  return invalid > 0 ? EXIT.denied : EXIT.ok;
}

async function convert(args: ParsedArgs, io: Io): Promise<number> {
  const [file, ...extra] = args.positionals;
  if (file === undefined || extra.length > 0)
    throw new ConfigError('USAGE', 'policy convert needs exactly one FILE');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError('USAGE', `cannot read ${file}: ${(err as Error).message}`);
  }
  let converted: string;
  try {
    converted = convertSeedText(text, file);
  } catch (err) {
    // main prints every field error as `file:line: path: message`; the message only summarizes.
    if (err instanceof ConfigError && err.fieldErrors.length > 0) {
      throw new ConfigError(
        err.code,
        `cannot convert ${file}: it is not a valid version: "2.0" policy file`,
        { cause: err, fieldErrors: err.fieldErrors },
      );
    }
    throw err;
  }
  io.stdout.write(converted);
  return EXIT.ok;
}
