// SPDX-License-Identifier: Apache-2.0
// Runs `npm run demo`'s main function for real (notary-server, docker-registry, notary CLI and a
// child `trustgate serve` from dist/), so the README's first command cannot silently rot.

import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { checkOutcome, runDemo, type DemoOutcome } from '../../scripts/demo.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runDemo', () => {
  describe('when run against the real notary-server, docker-registry and trustgate serve', () => {
    const sink = new Sink();
    let outcome: DemoOutcome;

    beforeAll(async () => {
      outcome = await runDemo({ out: sink, color: false });
    }, 40_000);

    it('allows the signed Pod and denies the unsigned tag and the unsigned init container', () => {
      expect(outcome.allowed).toEqual([true, false, false]);
      expect(outcome.codes).toEqual(['OK', 'TAG_NOT_SIGNED', 'TAG_NOT_SIGNED']);
    });

    it('names the init container field path in the Deployment denial', () => {
      expect(outcome.messages[2]).toContain('(spec.template.spec.initContainers[0].image)');
      expect(outcome.messages[2]).toContain('ClusterTrustPolicy/demo');
    });

    it('gets the same decisions from trustgate verify (exit 0, then 1)', () => {
      expect(outcome.verifyExitCodes).toEqual([0, 1]);
    });

    it('shows the pinned x509 root key ID in trustgate inspect', () => {
      expect(outcome.rootKeyId).toMatch(/^[0-9a-f]{64}$/);
      expect(outcome.inspect.exitCode).toBe(0);
      expect(outcome.inspect.stdout).toContain(`Root (v1) keys: ${outcome.rootKeyId}`);
      expect(outcome.inspect.stdout).toMatch(/^v1\.0\.0 +sha256:[0-9a-f]{64} +targets$/m);
    });

    it('counts the decisions in /metrics', () => {
      expect(outcome.metrics).toContain(
        'trustgate_admission_requests_total{decision="allow",code="NONE"} 1',
      );
      expect(outcome.metrics).toContain(
        'trustgate_admission_requests_total{decision="deny",code="TAG_NOT_SIGNED"} 2',
      );
    });

    it('passes its own self-check', () => {
      expect(checkOutcome(outcome)).toEqual([]);
    });

    it('narrates each response JSON for a newcomer', () => {
      expect(sink.text).toContain('"uid": "demo-0002-unsigned-pod"');
      expect(sink.text).toContain('Stop everything');
    });

    it('leaves none of the processes it started running', () => {
      expect(outcome.pids).toHaveLength(3);
      expect(outcome.pids.filter(alive)).toEqual([]);
    });
  });
});

describe('checkOutcome', () => {
  describe('when the unsigned Pod was allowed', () => {
    it('reports the broken review', () => {
      const bad: DemoOutcome = {
        allowed: [true, true, false],
        codes: ['OK', 'OK', 'TAG_NOT_SIGNED'],
        messages: ['', '', 'image "x" (spec.template.spec.initContainers[0].image) denied'],
        verifyExitCodes: [0, 1],
        inspect: { exitCode: 0, stdout: `Root (v1) keys: ${'a'.repeat(64)}` },
        rootKeyId: 'a'.repeat(64),
        metrics: [],
        pids: [],
      };
      expect(checkOutcome(bad)).toEqual([
        'review 2: expected denied with TAG_NOT_SIGNED, got allowed',
      ]);
    });
  });
});
