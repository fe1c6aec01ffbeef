// SPDX-License-Identifier: Apache-2.0
// Test/demo harness around the REAL notary-server and notary CLI (Debian notary 0.7):
// a throwaway in-memory server on a free loopback port, and a CLI wrapper with its own trust dir.

import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, probe, startDaemon } from './daemon.js';

export { freePort } from './daemon.js';

/** A running notary-server; `stop()` kills it by PID and waits for it to exit. */
export interface NotaryServerHandle {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Everything the server wrote to stderr/stdout so far (JSON log lines). */
  log(): string;
  stop(): Promise<void>;
}

export interface StartNotaryServerOptions {
  /** Binary to run (default `notary-server` from PATH). */
  readonly binary?: string;
  /** Milliseconds to wait for `/_notary_server/health` (default 10 s). */
  readonly readyTimeoutMs?: number;
}

/** Passphrase used for every key the harness creates (notary reads them from the environment). */
export const TEST_PASSPHRASE = 'trustgate-test-passphrase';

/**
 * Start notary-server with a temp config: memory storage, local (in-process ed25519) trust
 * service, plain HTTP on 127.0.0.1:<free port> (notes/notary-v1.md §1.1). Resolves once the
 * health endpoint answers 200. Retries on another port if the chosen one was taken meanwhile.
 * @throws Error with the server's log when it exits early or never becomes healthy.
 */
export async function startNotaryServer(
  opts: StartNotaryServerOptions = {},
): Promise<NotaryServerHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'trustgate-notary-server-'));
  let lastError: Error | undefined;
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const config = join(dir, `server-${port}.json`);
      await writeFile(
        config,
        JSON.stringify({
          server: { http_addr: `127.0.0.1:${port}` },
          trust_service: { type: 'local' },
          storage: { backend: 'memory' },
          logging: { level: 'warn' },
        }),
      );
      const url = `http://127.0.0.1:${port}`;
      const started = await startDaemon({
        command: opts.binary ?? 'notary-server',
        args: ['-config', config],
        ready: () => probe(`${url}/_notary_server/health`),
        ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
      });
      if (started.daemon) {
        const { daemon } = started;
        return {
          url,
          port,
          pid: daemon.pid,
          log: () => daemon.log(),
          async stop(): Promise<void> {
            // The store is in memory: nothing to flush, so do not wait long for a graceful exit.
            await daemon.stop();
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      lastError = new Error(
        `notary-server on port ${port} did not become healthy:\n${started.log}`,
      );
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError ?? new Error('notary-server did not start');
}

/** Result of one successful CLI run. */
export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to stdin (e.g. `yes\n` for root rotation). */
  readonly input?: string;
  /** Kill the process after this many ms (default 30 s). */
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Run a program; resolve with its output, reject with an Error that contains the command line,
 * exit status and stderr when it fails or times out.
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && !timedOut) {
        resolve({ stdout, stderr });
      } else {
        const why = timedOut ? 'timed out' : `exited with ${code ?? signal}`;
        reject(
          new Error(
            `\`${cmd} ${args.join(' ')}\` ${why}\nstderr: ${stderr.trim()}\nstdout: ${stdout.trim()}`,
          ),
        );
      }
    });
    if (opts.input !== undefined && child.stdin) {
      // A program may exit without reading its input; that is its exit status's business, not an EPIPE crash.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** A delegation (or extra) key pair written by openssl: SEC1/PKCS#1 key + self-signed cert. */
export interface KeyPair {
  readonly keyPath: string;
  readonly certPath: string;
}

/** The root certificate of a GUN as notary wrote it. */
export interface RootCert {
  /** The TUF (x509) key ID as it appears in root.json: what a policy pins (pitfall 5). */
  readonly keyId: string;
  readonly pem: string;
  /** sha256 of the certificate DER, lowercase hex. */
  readonly fingerprint: string;
}

/** Root key of a role in a served/cached root.json: x509 key ID, PEM and DER fingerprint. */
export function rootCertFromRootJson(rootJson: string): RootCert {
  const doc = JSON.parse(rootJson) as {
    signed: {
      keys: Record<string, { keytype: string; keyval: { public: string } }>;
      roles: { root: { keyids: string[] } };
    };
  };
  const keyId = doc.signed.roles.root.keyids[0];
  const key = keyId !== undefined ? doc.signed.keys[keyId] : undefined;
  if (keyId === undefined || key === undefined || !key.keytype.endsWith('-x509')) {
    throw new Error('root.json has no x509 root key');
  }
  const pem = Buffer.from(key.keyval.public, 'base64').toString('utf8');
  const fingerprint = createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
  return { keyId, pem, fingerprint };
}

export interface NotaryCliOptions {
  /** Notary server base URL, e.g. `http://127.0.0.1:4443`. */
  readonly server: string;
  /** Existing trust dir to use (default: a new temp dir, removed by `cleanup()`). */
  readonly trustDir?: string;
  readonly passphrase?: string;
}

export interface RotateOptions {
  /** `-r`: let the server manage the key (snapshot/timestamp only). */
  readonly serverManaged?: boolean;
  /** `-k <file>`: use these private key files instead of generating one (e.g. two targets keys). */
  readonly keyFiles?: readonly string[];
}

/**
 * The real notary CLI with a private trust dir; passphrases come from the environment so it never
 * prompts (notes §1.3). Every method rejects with the CLI's stderr when the command fails.
 */
export class NotaryCli {
  readonly server: string;
  readonly #ownsDir: boolean;
  #trustDir: string | undefined;
  readonly #passphrase: string;
  #work: string | undefined;

  private constructor(opts: NotaryCliOptions, trustDir: string, ownsDir: boolean) {
    this.server = opts.server;
    this.#trustDir = trustDir;
    this.#ownsDir = ownsDir;
    this.#passphrase = opts.passphrase ?? TEST_PASSPHRASE;
  }

  /** A CLI bound to `opts.server` with a fresh temp trust dir (unless one is given). */
  static async create(opts: NotaryCliOptions): Promise<NotaryCli> {
    if (opts.trustDir !== undefined) return new NotaryCli(opts, opts.trustDir, false);
    const dir = await mkdtemp(join(tmpdir(), 'trustgate-notary-cli-'));
    return new NotaryCli(opts, dir, true);
  }

  get trustDir(): string {
    if (this.#trustDir === undefined) throw new Error('NotaryCli used after cleanup()');
    return this.#trustDir;
  }

  /** Scratch directory for key files and certs (inside the trust dir's parent temp area). */
  async workDir(): Promise<string> {
    this.#work ??= await mkdtemp(join(tmpdir(), 'trustgate-notary-keys-'));
    return this.#work;
  }

  /** Run `notary -s <server> -d <trustdir> …args` without prompts. */
  async notary(args: readonly string[], opts: RunOptions = {}): Promise<CliResult> {
    const p = this.#passphrase;
    return run('notary', ['-s', this.server, '-d', this.trustDir, ...args], {
      ...opts,
      env: {
        NOTARY_ROOT_PASSPHRASE: p,
        NOTARY_TARGETS_PASSPHRASE: p,
        NOTARY_SNAPSHOT_PASSPHRASE: p,
        NOTARY_DELEGATION_PASSPHRASE: p,
        ...opts.env,
      },
    });
  }

  /** `notary init GUN -p`: create and publish the repository (root v1, targets, snapshot). */
  async init(gun: string, opts: { publish?: boolean } = {}): Promise<void> {
    await this.notary(['init', gun, ...(opts.publish === false ? [] : ['-p'])]);
  }

  async publish(gun: string): Promise<void> {
    await this.notary(['publish', gun]);
  }

  /**
   * Stage a Docker-style target (name = tag, sha256 + length only, notes §3.4), into
   * `targets` or the given roles; publish unless `publish: false`.
   */
  // eslint-disable-next-line @typescript-eslint/max-params -- mirrors `notary addHash GUN TAG SIZE --sha256 HEX -r ROLE`'s positional order, which callers (bench, demo, webhook tests) rely on
  async addHash(
    gun: string,
    tag: string,
    size: number,
    sha256hex: string,
    roles: readonly string[] = [],
    opts: { publish?: boolean } = {},
  ): Promise<void> {
    await this.notary([
      'addhash',
      gun,
      tag,
      String(size),
      '--sha256',
      sha256hex,
      ...roles.flatMap((r) => ['-r', r]),
    ]);
    if (opts.publish !== false) await this.publish(gun);
  }

  /** Remove a target from `targets` (or the given roles) and publish unless `publish: false`. */
  async remove(
    gun: string,
    tag: string,
    roles: readonly string[] = [],
    opts: { publish?: boolean } = {},
  ): Promise<void> {
    await this.notary(['remove', gun, tag, ...roles.flatMap((r) => ['-r', r])]);
    if (opts.publish !== false) await this.publish(gun);
  }

  /** Add a delegation role with one or more certificates; `'all'` = `--all-paths` (paths `[""]`). */
  // eslint-disable-next-line @typescript-eslint/max-params -- mirrors `notary delegation add GUN ROLE CERT... --paths P` positional order, used by bench and the notary tests
  async delegationAdd(
    gun: string,
    role: string,
    certPaths: string | readonly string[],
    paths: readonly string[] | 'all',
    opts: { publish?: boolean } = {},
  ): Promise<void> {
    const certs = typeof certPaths === 'string' ? [certPaths] : [...certPaths];
    const pathArgs = paths === 'all' ? ['--all-paths'] : paths.flatMap((p) => ['--paths', p]);
    await this.notary(['delegation', 'add', gun, role, ...certs, ...pathArgs]);
    if (opts.publish !== false) await this.publish(gun);
  }

  /**
   * `notary delegation remove -y`: drop paths (`'all'` = `--all-paths`) or key IDs from a role; with
   * neither, the whole role. Publishes unless `publish: false`.
   */
  async delegationRemove(
    gun: string,
    role: string,
    what: { paths?: readonly string[] | 'all'; keyIds?: readonly string[] } = {},
    opts: { publish?: boolean } = {},
  ): Promise<void> {
    const pathArgs =
      what.paths === undefined
        ? []
        : what.paths === 'all'
          ? ['--all-paths']
          : what.paths.flatMap((p) => ['--paths', p]);
    await this.notary([
      'delegation',
      'remove',
      '-y',
      gun,
      role,
      ...(what.keyIds ?? []),
      ...pathArgs,
    ]);
    if (opts.publish !== false) await this.publish(gun);
  }

  /** Import a private key for a role (openssl SEC1/PKCS#1 keys are fine, notes §1.3). */
  async keyImport(keyPath: string, role: string, gun?: string): Promise<void> {
    await this.notary([
      'key',
      'import',
      keyPath,
      '--role',
      role,
      ...(gun !== undefined ? ['--gun', gun] : []),
    ]);
  }

  /**
   * `notary key rotate GUN role`: publishes at once. Root rotation asks for confirmation,
   * answered with `yes` on stdin (pitfall 11).
   */
  async rotate(gun: string, role: string, opts: RotateOptions = {}): Promise<void> {
    const args = ['key', 'rotate', gun, role];
    if (opts.serverManaged) args.push('-r');
    for (const k of opts.keyFiles ?? []) args.push('-k', k);
    await this.notary(args, role === 'root' ? { input: 'yes\n' } : {});
  }

  /** Re-sign a role (version and expiry bump, same content) and publish unless `publish: false`. */
  async witness(gun: string, role: string, opts: { publish?: boolean } = {}): Promise<void> {
    await this.notary(['witness', gun, role]);
    if (opts.publish !== false) await this.publish(gun);
  }

  /** Drop every staged change (a failed publish leaves them staged, pitfall 3). */
  async reset(gun: string): Promise<void> {
    await this.notary(['reset', gun, '--all']);
  }

  /** `notary list GUN [-r role]` output (NAME DIGEST SIZE ROLE). */
  async list(gun: string, role?: string): Promise<string> {
    return (await this.notary(['list', gun, ...(role !== undefined ? ['-r', role] : [])])).stdout;
  }

  /** Delete the GUN's trust data on the server and locally. */
  async deleteRemote(gun: string): Promise<void> {
    await this.notary(['delete', gun, '--remote']);
  }

  /**
   * The GUN's root certificate from the trust dir's cached root.json: the root this CLI created
   * or last pulled. Read it after `init` to pin the original key. NOTE: `key rotate` does not
   * refresh this cache (confirmed); use {@link servedRootCert} for the server's current root.
   */
  async rootCert(gun: string): Promise<RootCert> {
    const file = join(this.trustDir, 'tuf', ...gun.split('/'), 'metadata', 'root.json');
    return rootCertFromRootJson(await readFile(file, 'utf8'));
  }

  /** The root certificate of the root.json the server currently serves for `gun`. */
  async servedRootCert(gun: string): Promise<RootCert> {
    const res = await fetch(`${this.server}/v2/${gun}/_trust/tuf/root.json`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`root.json of ${gun}: HTTP ${res.status} ${body}`);
    return rootCertFromRootJson(body);
  }

  /**
   * Decrypt the private key the CLI holds for `role` (and `gun`, for per-repository keys) from the
   * trust dir, to sign hand-made metadata. notary's PEM carries `role:`/`gun:` header lines that
   * OpenSSL/node reject, so they are stripped first (pitfall 12).
   */
  async privateKey(role: string, gun?: string): Promise<{ id: string; key: KeyObject }> {
    const dir = join(this.trustDir, 'private');
    const found: { id: string; key: KeyObject }[] = [];
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.key')) continue;
      const pem = await readFile(join(dir, name), 'utf8');
      const headers = new Map([...pem.matchAll(/^(role|gun): (.*)$/gm)].map((m) => [m[1], m[2]]));
      if (headers.get('role') !== role || (gun !== undefined && headers.get('gun') !== gun))
        continue;
      const clean = pem.replace(/^(role|gun): .*\n/gm, '').replace(/-----\n\n/, '-----\n');
      found.push({
        id: name.slice(0, -4),
        key: createPrivateKey({ key: clean, format: 'pem', passphrase: this.#passphrase }),
      });
    }
    if (found.length !== 1)
      throw new Error(
        `expected one private key for role ${role}${gun ? ` of ${gun}` : ''}, found ${found.length}`,
      );
    return found[0]!;
  }

  /**
   * Make a key pair with openssl (notes §1.3): `ecdsa` = P-256 SEC1 key, `rsa` = 2048-bit;
   * the self-signed certificate (CN = `cn`) is what `delegationAdd` takes.
   */
  async makeKeyPair(
    name: string,
    opts: { type?: 'ecdsa' | 'rsa'; cn?: string } = {},
  ): Promise<KeyPair> {
    const dir = await this.workDir();
    const keyPath = join(dir, `${name}.key`);
    const certPath = join(dir, `${name}.crt`);
    if ((opts.type ?? 'ecdsa') === 'rsa') {
      await run('openssl', ['genrsa', '-out', keyPath, '2048']);
    } else {
      await run('openssl', [
        'ecparam',
        '-name',
        'prime256v1',
        '-genkey',
        '-noout',
        '-out',
        keyPath,
      ]);
    }
    await run('openssl', [
      'req',
      '-new',
      '-x509',
      '-key',
      keyPath,
      '-out',
      certPath,
      '-days',
      '3650',
      '-sha256',
      '-subj',
      `/CN=${opts.cn ?? name}`,
    ]);
    return { keyPath, certPath };
  }

  /** Remove the temp trust dir (if this wrapper created it) and the key scratch dir. */
  async cleanup(): Promise<void> {
    if (this.#work !== undefined) await rm(this.#work, { recursive: true, force: true });
    this.#work = undefined;
    if (this.#ownsDir && this.#trustDir !== undefined)
      await rm(this.#trustDir, { recursive: true, force: true });
    this.#trustDir = undefined;
  }
}
