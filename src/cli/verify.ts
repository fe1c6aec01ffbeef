// SPDX-License-Identifier: Apache-2.0
// `trustgate verify IMAGE... --policy PATH`: the admission decision for images, for CI and laptops.

import { buildVerifier } from '../app.js';
import { ConfigError } from '../core/errors.js';
import type { Io } from '../main.js';
import { createDeadline } from '../verify/deadline.js';
import { systemClock } from '../verify/ports.js';
import { flag, parseArgs, parseAt } from './args.js';
import {
  CLI_TIMEOUT_MS,
  loadCliCredentials,
  loadConfigFile,
  loadPolicyFlag,
  outputFormat,
  staticPolicies,
} from './common.js';
import { exitCodeFor, toJsonOutput, toTextOutput } from './output.js';

/** `trustgate verify`: exit 0 all allowed, 1 denied, 3 inconclusive. @throws ConfigError USAGE | INVALID_CONFIG | INVALID_POLICY */
export async function runVerify(argv: readonly string[], io: Io): Promise<number> {
  const args = parseArgs(argv, {
    policy: { value: true },
    at: { value: true },
    output: { value: true },
    config: { value: true },
    namespace: { value: true },
    'no-registry': {},
  });
  const output = outputFormat(args);
  if (args.positionals.length === 0)
    throw new ConfigError('USAGE', 'verify needs at least one IMAGE');
  const at = parseAt(flag(args, 'at'));
  const config = await loadConfigFile(flag(args, 'config'));
  const policies = await loadPolicyFlag(flag(args, 'policy'));
  const registry = !args.flags.has('no-registry');
  const credentials = registry ? await loadCliCredentials(io.env) : undefined;

  const bundle = buildVerifier({
    config,
    policies: staticPolicies(policies),
    clock: systemClock,
    registry,
  });
  try {
    if (io.isTTY && output === 'text')
      io.stderr.write(`verifying ${args.positionals.length} image(s)…\n`);
    const verdicts = await bundle.verifier.verifyImages(
      args.positionals.map((image, i) => ({ image, path: `args[${i}]` })),
      {
        namespace: flag(args, 'namespace') ?? '',
        deadline: createDeadline(CLI_TIMEOUT_MS),
        ...(credentials ? { credentials } : {}),
        ...(at ? { at } : {}),
      },
    );
    io.stdout.write(`${output === 'json' ? toJsonOutput(verdicts) : toTextOutput(verdicts)}\n`);
    return exitCodeFor(verdicts);
  } finally {
    await bundle.close();
  }
}
