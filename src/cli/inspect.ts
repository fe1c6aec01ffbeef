// SPDX-License-Identifier: Apache-2.0
// `trustgate inspect IMAGE --server URL`: the signed tags, digests, signer roles, keys and expiries
// of a repository's Notary v1 trust data, like `docker trust inspect --pretty`.

import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';
import type { VerifiedRepository } from '../core/notary/types.js';
import { compilePolicy } from '../core/policy/compile.js';
import type { CompiledNotaryV1Source } from '../core/policy/types.js';
import { parseImageReference } from '../core/reference.js';
import type { Io } from '../main.js';
import { DispatcherPool } from '../registry/http.js';
import { NotaryClient } from '../registry/notary-client.js';
import { createDeadline } from '../verify/deadline.js';
import { NotaryEvidence } from '../verify/notary-evidence.js';
import { systemClock } from '../verify/ports.js';
import { flag, flags, parseArgs, parseAt } from './args.js';
import { CLI_TIMEOUT_MS, outputFormat } from './common.js';
import { EXIT } from './output.js';

interface SignedTag {
  tag: string;
  digest: string;
  length: number;
  roles: string[];
}

/** Tags with the roles that signed them, Docker's precedence first (`targets/releases`, `targets`). */
export function toSignedTags(repo: VerifiedRepository): SignedTag[] {
  const byTag = new Map<string, SignedTag>();
  const roles = [...repo.roles.values()].sort(
    (a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name),
  );
  for (const role of roles) {
    for (const t of role.targets.values()) {
      const entry = byTag.get(t.name) ?? {
        tag: t.name,
        digest: t.digest,
        length: t.length,
        roles: [],
      };
      entry.roles.push(role.name);
      byTag.set(t.name, entry);
    }
  }
  return [...byTag.values()].sort((a, b) => a.tag.localeCompare(b.tag));
}

function rank(role: string): number {
  return role === 'targets/releases' ? 0 : role === 'targets' ? 1 : 2;
}

export function toInspectJson(repo: VerifiedRepository, pinned: boolean): unknown {
  return {
    gun: repo.gun,
    rootPinned: pinned,
    root: { version: repo.rootVersion, keyIds: repo.rootKeyIds },
    expires: repo.expires.toISOString(),
    signedTags: toSignedTags(repo),
    roles: [...repo.roles.values()].map((r) => ({
      name: r.name,
      version: r.version,
      expires: r.expires.toISOString(),
      threshold: r.threshold,
      validKeyIds: r.validKeyIds,
      paths: r.paths,
      targets: r.targets.size,
    })),
    problems: repo.problems,
  };
}

export function toInspectText(repo: VerifiedRepository, pinned: boolean): string {
  const lines: string[] = [];
  lines.push(`Signatures for ${repo.gun}`, '');
  const tags = toSignedTags(repo);
  const w = Math.max(11, ...tags.map((t) => t.tag.length));
  lines.push(`${'SIGNED TAG'.padEnd(w)}  ${'DIGEST'.padEnd(71)}  SIGNERS`);
  for (const t of tags)
    lines.push(`${t.tag.padEnd(w)}  ${t.digest.padEnd(71)}  ${t.roles.join(', ')}`);
  if (tags.length === 0) lines.push('(no signed tags)');
  lines.push('', 'ROLES');
  for (const r of repo.roles.values()) {
    lines.push(
      `  ${r.name}  v${r.version}  expires ${r.expires.toISOString()}  threshold ${r.threshold}  paths ${r.paths === null ? '(all)' : JSON.stringify(r.paths)}`,
      `    signed by keys: ${r.validKeyIds.join(', ') || '(none)'}`,
    );
  }
  for (const p of repo.problems) lines.push(`  ${p.role}: ignored (${p.code}: ${p.message})`);
  lines.push('', `Root (v${repo.rootVersion}) keys: ${repo.rootKeyIds.join(', ')}`);
  lines.push(`Trust data valid until ${repo.expires.toISOString()}`);
  if (!pinned) {
    lines.push(
      '',
      'WARNING: the root was trusted on first use (no --root-key given). Pin one of the root key IDs',
      'above in your policy (trustSources[].notaryV1.rootKeys) after checking it out of band.',
    );
  }
  return lines.join('\n');
}

/** `trustgate inspect`: exit 0 with the trust data printed. @throws ConfigError USAGE; VerificationError / InconclusiveError from the load */
export async function runInspect(argv: readonly string[], io: Io): Promise<number> {
  const args = parseArgs(argv, {
    server: { value: true },
    'root-key': { value: true, multiple: true },
    'ca-bundle': { value: true },
    at: { value: true },
    output: { value: true },
  });
  const [image, ...extra] = args.positionals;
  if (image === undefined || extra.length > 0)
    throw new ConfigError('USAGE', 'inspect needs exactly one IMAGE');
  const server = flag(args, 'server');
  if (server === undefined)
    throw new ConfigError(
      'USAGE',
      'inspect needs --server URL (the Notary v1 server, e.g. https://notary.example.com)',
    );
  const output = outputFormat(args);
  const at = parseAt(flag(args, 'at')) ?? systemClock.now();
  const ref = parseImageReference(image);
  const rootKeys = await readRootKeys(flags(args, 'root-key'));
  const pinned = rootKeys.length > 0;
  const source = inspectSource({
    gun: ref.name,
    server,
    rootKeys,
    caBundle: await readCaBundle(flag(args, 'ca-bundle')),
  });
  const dispatchers = new DispatcherPool();
  try {
    const evidence = new NotaryEvidence({ metadata: new NotaryClient({ dispatchers }) });
    if (io.isTTY && output === 'text')
      io.stderr.write(`fetching trust data for ${ref.name} from ${server}…\n`);
    const repo = await evidence.load(source, ref.name, {
      deadline: createDeadline(CLI_TIMEOUT_MS),
      now: at,
    });
    io.stdout.write(
      `${output === 'json' ? JSON.stringify(toInspectJson(repo, pinned), null, 2) : toInspectText(repo, pinned)}\n`,
    );
    return EXIT.ok;
  } finally {
    await dispatchers.close();
  }
}

/** `--root-key` values: a 64-hex key ID as given, anything else read as a PEM file. @throws ConfigError USAGE */
function readRootKeys(values: readonly string[]): Promise<string[]> {
  return Promise.all(
    values.map(async (k) => {
      if (/^[0-9a-f]{64}$/.test(k)) return k;
      try {
        return await readFile(k, 'utf8');
      } catch {
        throw new ConfigError(
          'USAGE',
          `--root-key ${k}: not a 64-hex key ID and not a readable PEM file`,
        );
      }
    }),
  );
}

/** `--ca-bundle FILE`, read. @throws ConfigError USAGE */
async function readCaBundle(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new ConfigError('USAGE', `cannot read --ca-bundle ${file}`);
  }
}

/**
 * The Notary v1 source of a one-source policy for `gun` (compiled like any other policy, so the
 * root-key rules are the same): pinned to `rootKeys`, or trust on first use when there are none.
 */
function inspectSource(o: {
  gun: string;
  server: string;
  rootKeys: readonly string[];
  caBundle: string | undefined;
}): CompiledNotaryV1Source {
  const pinned = o.rootKeys.length > 0;
  const policy = compilePolicy({
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'ClusterTrustPolicy',
    metadata: { name: 'inspect' },
    spec: {
      images: [o.gun],
      trustSources: [
        {
          name: 'inspect',
          notaryV1: {
            server: o.server,
            ...(o.caBundle ? { caBundle: o.caBundle } : {}),
            ...(pinned ? { rootKeys: [...o.rootKeys] } : { trustOnFirstUse: true }),
          },
        },
      ],
    },
  });
  return policy.sources[0] as CompiledNotaryV1Source;
}
