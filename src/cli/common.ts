// SPDX-License-Identifier: Apache-2.0
// What several commands share: reading --config, loading --policy, registry credentials.

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_CONFIG, parseConfig, type Config } from '../config/config.js';
import { ConfigError } from '../core/errors.js';
import type { CompiledPolicy } from '../core/policy/types.js';
import { loadPolicies } from '../policy-files/load.js';
import { loadDockerConfigFile } from '../registry/credentials.js';
import type { CredentialProvider, PolicySource } from '../verify/ports.js';
import { flag, type ParsedArgs } from './args.js';

/** Read and validate `--config FILE` (YAML or JSON); defaults when absent. @throws ConfigError */
export async function loadConfigFile(path: string | undefined): Promise<Config> {
  if (path === undefined) return DEFAULT_CONFIG;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError('USAGE', `cannot read config ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      'INVALID_CONFIG',
      `config ${path} is not valid YAML: ${(err as Error).message}`,
    );
  }
  return parseConfig(doc, path);
}

/** A PolicySource over a fixed set of policies (files never change under the CLI). */
export function staticPolicies(policies: readonly CompiledPolicy[]): PolicySource {
  return { current: () => policies, ready: () => true };
}

/** Load `--policy PATH` (file or directory); any error is a configuration error (exit 2). */
export async function loadPolicyFlag(path: string | undefined): Promise<readonly CompiledPolicy[]> {
  if (path === undefined)
    throw new ConfigError(
      'USAGE',
      '--policy PATH is required (a policy file or a directory of them)',
    );
  const { policies, errors } = await loadPolicies(path);
  if (errors.length > 0) {
    throw new ConfigError('INVALID_POLICY', `invalid policy in ${path}`, { fieldErrors: errors });
  }
  if (policies.length === 0)
    throw new ConfigError('INVALID_POLICY', `no policies found in ${path}`);
  return policies;
}

/** Registry credentials for the CLI: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
export function loadCliCredentials(
  env: Readonly<Record<string, string | undefined>>,
): Promise<CredentialProvider> {
  const dir = env['DOCKER_CONFIG'] ?? join(env['HOME'] ?? homedir(), '.docker');
  return loadDockerConfigFile(join(dir, 'config.json'));
}

/** The CLI's deadline for one command's upstream work. */
export const CLI_TIMEOUT_MS = 30_000;

/** `--output text|json`, text when absent. @throws ConfigError USAGE */
export function outputFormat(args: ParsedArgs): 'text' | 'json' {
  const output = flag(args, 'output') ?? 'text';
  if (output !== 'text' && output !== 'json') {
    throw new ConfigError('USAGE', `--output must be text or json, got ${JSON.stringify(output)}`);
  }
  return output;
}
