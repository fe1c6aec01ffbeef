// SPDX-License-Identifier: Apache-2.0
// Certificate reload from a kubelet-style secret volume (..data symlink swap).

import { mkdtempSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../core/errors.js';
import { MemorySink } from '../../__fixtures__/admission/fake-verifier.js';
import { createJsonLogger } from '../../observability/logger.js';
import {
  createCertSource,
  loadCertificatePair,
  type CertificatePair,
  type CertSource,
} from '../cert-source.js';
import { generateDevCertificate } from '../dev-cert.js';

const dirs: string[] = [];
const sources: CertSource[] = [];
afterEach(() => {
  for (const s of sources.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let version = 0;
/** Write a pair the way kubelet's AtomicWriter does: new timestamped dir, then swap `..data`. */
function publish(dir: string, pair: { certPem: string; keyPem: string }): void {
  const data = `..v${++version}`;
  mkdirSync(join(dir, data));
  writeFileSync(join(dir, data, 'tls.crt'), pair.certPem);
  writeFileSync(join(dir, data, 'tls.key'), pair.keyPem);
  symlinkSync(data, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
}

function volume(pair: CertificatePair): { dir: string; certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'trustgate-certs-'));
  dirs.push(dir);
  publish(dir, pair);
  symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
  symlinkSync('..data/tls.key', join(dir, 'tls.key'));
  return { dir, certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
}

const dev = (): CertificatePair => generateDevCertificate({ hosts: ['localhost'], days: 1 });

describe('createCertSource', () => {
  describe('when the secret volume swaps to a new pair', () => {
    it('applies the new pair', async () => {
      const first = dev();
      const second = dev();
      const v = volume(first);
      const src = createCertSource({ ...v, debounceMs: 20, pollIntervalMs: 100 });
      sources.push(src);
      expect(src.current()).toEqual(first);
      const applied: CertificatePair[] = [];
      src.watch((p) => applied.push(p));
      publish(v.dir, second);
      await until(() => applied.length > 0);
      expect(applied).toEqual([second]);
      expect(src.current()).toEqual(second);
    });
  });

  describe('when the new files do not form a pair', () => {
    it('logs, keeps the old pair and does not apply', () => {
      const first = dev();
      const v = volume(first);
      const sink = new MemorySink();
      const src = createCertSource({ ...v, logger: createJsonLogger({ stream: sink }) });
      sources.push(src);
      const applied: CertificatePair[] = [];
      src.watch((p) => applied.push(p));
      publish(v.dir, { certPem: dev().certPem, keyPem: dev().keyPem });
      expect(src.reload()).toBe(false);
      publish(v.dir, { certPem: 'not a cert', keyPem: first.keyPem });
      expect(src.reload()).toBe(false);
      expect(applied).toEqual([]);
      expect(src.current()).toEqual(first);
      expect(sink.lines.filter((l) => l['level'] === 'warn')).toHaveLength(2);
    });
  });

  describe('when apply throws', () => {
    it('keeps the old pair current', () => {
      const first = dev();
      const v = volume(first);
      const src = createCertSource({ ...v });
      sources.push(src);
      src.watch(() => {
        throw new Error('setSecureContext failed');
      });
      publish(v.dir, dev());
      expect(src.reload()).toBe(false);
      expect(src.current()).toEqual(first);
    });
  });
});

describe('loadCertificatePair', () => {
  it('rejects missing files and mismatched keys with INVALID_CONFIG', () => {
    const v = volume({ certPem: dev().certPem, keyPem: dev().keyPem });
    expect(() => loadCertificatePair(v.certFile, v.keyFile)).toThrowWithCode(
      ConfigError,
      'INVALID_CONFIG',
    );
    expect(() => loadCertificatePair(v.certFile, v.keyFile)).toThrow(
      /is not the private key of the certificate/,
    );
    expect(() => loadCertificatePair(join(v.dir, 'nope.crt'), v.keyFile)).toThrowWithCode(
      ConfigError,
      'INVALID_CONFIG',
    );
  });
});
