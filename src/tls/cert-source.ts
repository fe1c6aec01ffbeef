// SPDX-License-Identifier: Apache-2.0
// Serving certificate from files, reloaded when they change (SPEC §4: cert-manager rotation
// without a restart). Kubelet swaps a `..data` symlink in the directory, so the directory is
// watched, with a periodic stat as a fallback for filesystems where fs.watch misses events.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { noopLogger, serializeError, type Logger } from '../observability/logger.js';

export interface CertificatePair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertSourceOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly logger?: Logger;
  /** Stat fallback period. Default 30 s. */
  readonly pollIntervalMs?: number;
  /** Quiet time after a watch event before reading (writers touch both files). Default 200 ms. */
  readonly debounceMs?: number;
}

export interface CertSource {
  /** The pair currently in use. */
  current(): CertificatePair;
  /**
   * Start watching; `apply` receives each new valid pair (e.g. `admission.setCertificate`).
   * If `apply` throws, the old pair stays current.
   */
  watch(apply: (pair: CertificatePair) => void): void;
  /** Read the files now; true when a new pair was validated and applied. Never throws. */
  reload(): boolean;
  /** Stop watching and polling. */
  close(): void;
}

/**
 * Read and check a certificate/key pair: the certificate parses, the key parses, and the key
 * belongs to the (first) certificate.
 * @throws ConfigError INVALID_CONFIG naming the file and the problem.
 */
export function loadCertificatePair(certFile: string, keyFile: string): CertificatePair {
  let certPem: string;
  let keyPem: string;
  try {
    certPem = readFileSync(certFile, 'utf8');
    keyPem = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'INVALID_CONFIG',
      `cannot read TLS certificate/key: ${(err as Error).message}`,
      { cause: err },
    );
  }
  checkCertificatePair({ certPem, keyPem }, certFile, keyFile);
  return { certPem, keyPem };
}

function checkCertificatePair(
  pair: CertificatePair,
  certFile: string,
  keyFile: string,
): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pair.certPem);
  } catch (err) {
    throw new ConfigError('INVALID_CONFIG', `${certFile} does not hold a PEM certificate`, {
      cause: err,
    });
  }
  let ok: boolean;
  try {
    ok = cert.checkPrivateKey(createPrivateKey(pair.keyPem));
  } catch (err) {
    throw new ConfigError('INVALID_CONFIG', `${keyFile} does not hold a usable PEM private key`, {
      cause: err,
    });
  }
  if (!ok)
    throw new ConfigError(
      'INVALID_CONFIG',
      `${keyFile} is not the private key of the certificate in ${certFile}`,
    );
  return cert;
}

function statSignature(file: string): string {
  try {
    const s = statSync(file); // follows the symlink kubelet swaps
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/**
 * Load the pair now (throws ConfigError INVALID_CONFIG like {@link loadCertificatePair}) and
 * return a source that can watch the files for rotation.
 */
export function createCertSource(opts: CertSourceOptions): CertSource {
  const logger = opts.logger ?? noopLogger;
  const { certFile, keyFile } = opts;
  let current = loadCertificatePair(certFile, keyFile);
  let apply: ((pair: CertificatePair) => void) | undefined;
  let signature = statSignature(certFile) + '|' + statSignature(keyFile);
  const watchers: FSWatcher[] = [];
  let poll: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let closed = false;

  function reload(): boolean {
    signature = statSignature(certFile) + '|' + statSignature(keyFile);
    let next: CertificatePair;
    try {
      next = { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
    } catch (err) {
      logger.warn('TLS files unreadable; keeping the current certificate', {
        error: serializeError(err),
      });
      return false;
    }
    if (next.certPem === current.certPem && next.keyPem === current.keyPem) return false;
    let cert: X509Certificate;
    try {
      cert = checkCertificatePair(next, certFile, keyFile);
      apply?.(next);
    } catch (err) {
      // Writers replace the two files one after the other; a half-written pair is retried on
      // the next event or poll.
      logger.warn('new TLS certificate/key rejected; keeping the current one', {
        error: serializeError(err),
      });
      return false;
    }
    current = next;
    logger.info('TLS certificate reloaded', {
      subject: cert.subject,
      validTo: cert.validTo,
      fingerprint256: cert.fingerprint256,
    });
    return true;
  }

  function schedule(): void {
    if (closed) return;
    if (debounce !== undefined) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      reload();
    }, opts.debounceMs ?? 200);
    debounce.unref();
  }

  return {
    current: () => current,
    reload,
    watch(fn) {
      apply = fn;
      if (watchers.length > 0 || poll !== undefined || closed) return;
      for (const dir of new Set([dirname(certFile), dirname(keyFile)])) {
        try {
          const w = watch(dir, { persistent: false }, schedule);
          w.on('error', (err) => {
            logger.warn('TLS directory watch failed; relying on polling', {
              dir,
              error: serializeError(err),
            });
            w.close();
          });
          watchers.push(w);
        } catch (err) {
          logger.warn('cannot watch TLS directory; relying on polling', {
            dir,
            error: serializeError(err),
          });
        }
      }
      poll = setInterval(() => {
        if (statSignature(certFile) + '|' + statSignature(keyFile) !== signature) reload();
      }, opts.pollIntervalMs ?? 30_000);
      poll.unref();
    },
    close() {
      closed = true;
      for (const w of watchers) w.close();
      watchers.length = 0;
      if (poll !== undefined) clearInterval(poll);
      if (debounce !== undefined) clearTimeout(debounce);
    },
  };
}
