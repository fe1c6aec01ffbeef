// SPDX-License-Identifier: Apache-2.0
// Dev certificate: parsed by node's X509Certificate, self-signed, SANs and validity as asked.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../core/errors.js';
import { generateDevCertificate, toIpBytes } from '../dev-cert.js';

const now = new Date('2026-12-02T00:00:00Z');

describe('generateDevCertificate', () => {
  describe('when given DNS names and IPv4/IPv6 addresses', () => {
    it('produces a self-signed P-256 certificate with those SANs', () => {
      const { certPem, keyPem } = generateDevCertificate({
        hosts: ['localhost', '127.0.0.1', '::1', 'trustgate.trustgate.svc'],
        days: 30,
        now,
      });
      const cert = new X509Certificate(certPem);
      expect(cert.subjectAltName).toBe(
        'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:trustgate.trustgate.svc',
      );
      expect(cert.subject).toContain('CN=localhost');
      expect(cert.issuer).toBe(cert.subject);
      expect(cert.verify(cert.publicKey)).toBe(true);
      expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
      expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      expect(cert.checkHost('trustgate.trustgate.svc')).toBe('trustgate.trustgate.svc');
      expect(cert.checkIP('::1')).toBe('::1');
      expect(new Date(cert.validFrom).getTime()).toBe(now.getTime() - 5 * 60_000);
      expect(new Date(cert.validTo).getTime()).toBe(now.getTime() + 30 * 86_400_000);
      expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    });
  });

  describe('when two certificates are generated', () => {
    it('uses fresh keys and serials', () => {
      const a = new X509Certificate(generateDevCertificate({ hosts: ['a'], days: 1, now }).certPem);
      const b = new X509Certificate(generateDevCertificate({ hosts: ['a'], days: 1, now }).certPem);
      expect(a.serialNumber).not.toBe(b.serialNumber);
      expect(a.fingerprint256).not.toBe(b.fingerprint256);
    });
  });

  describe('when the input is unusable', () => {
    it('throws INVALID_CONFIG', () => {
      expect(() => generateDevCertificate({ hosts: [], days: 1 })).toThrowWithCode(
        ConfigError,
        'INVALID_CONFIG',
      );
      expect(() => generateDevCertificate({ hosts: ['bad host'], days: 1 })).toThrowWithCode(
        ConfigError,
        'INVALID_CONFIG',
      );
      expect(() => generateDevCertificate({ hosts: ['a'], days: 0 })).toThrowWithCode(
        ConfigError,
        'INVALID_CONFIG',
      );
      expect(() => toIpBytes('fe80::1%eth0')).toThrowWithCode(ConfigError, 'INVALID_CONFIG');
    });
  });
});

describe('toIpBytes', () => {
  it('expands IPv6 forms', () => {
    expect(toIpBytes('::').toString('hex')).toBe('0'.repeat(32));
    expect(toIpBytes('2001:db8::8:800:200c:417a').toString('hex')).toBe(
      '20010db80000000000080800200c417a',
    );
    expect(toIpBytes('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(toIpBytes('10.1.2.3').toString('hex')).toBe('0a010203');
  });
});
