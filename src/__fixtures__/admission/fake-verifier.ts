// SPDX-License-Identifier: Apache-2.0
// A fake ImageVerifier for admission tests: verdicts by image name, every call recorded.

import { createHash } from 'node:crypto';
import type { ReasonCode } from '../../core/errors.js';
import type { ImageVerdict } from '../../core/result.js';
import type { ImageVerifier, VerifyContext, WorkloadImage } from '../../verify/ports.js';

export type FakeBehaviour =
  | { readonly allow: true; readonly digest?: string; readonly policy?: string }
  | {
      readonly deny: ReasonCode;
      readonly policy?: string;
      readonly message: string;
      readonly inconclusive?: boolean;
    }
  | { readonly warn: string; readonly policy: string; readonly digest?: string }
  | { readonly audit: ReasonCode; readonly policy: string; readonly message: string }
  /** Throw from verifyImages (a bug in the verifier). */
  | { readonly throws: string }
  /** Never answer on its own; resolve inconclusive when the deadline aborts. */
  | { readonly waitForDeadline: true }
  /** Block until `release()` is called (in-flight requests). */
  | { readonly gate: Promise<void> };

/** The digest the fake "verifies" for an image: sha256 of its name. */
export function fakeDigest(image: string): string {
  return 'sha256:' + createHash('sha256').update(image).digest('hex');
}

export class FakeVerifier implements ImageVerifier {
  readonly calls: { images: readonly WorkloadImage[]; ctx: VerifyContext }[] = [];

  constructor(private readonly behaviours: ReadonlyMap<string, FakeBehaviour> = new Map()) {}

  async verifyImages(
    images: readonly WorkloadImage[],
    ctx: VerifyContext,
  ): Promise<readonly ImageVerdict[]> {
    this.calls.push({ images, ctx });
    const out: ImageVerdict[] = [];
    for (const img of images) {
      const b = this.behaviours.get(img.image) ?? { allow: true };
      out.push(await this.verdict(img, b, ctx));
    }
    return out;
  }

  private async verdict(
    img: WorkloadImage,
    b: FakeBehaviour,
    ctx: VerifyContext,
  ): Promise<ImageVerdict> {
    const base = {
      image: img.image,
      path: img.path,
      warnings: [],
      audits: [],
      inconclusive: false,
    };
    if ('throws' in b) throw new TypeError(b.throws);
    if ('gate' in b) {
      await b.gate;
      return { ...base, allowed: true, digest: fakeDigest(img.image), reasons: [], policies: [] };
    }
    if ('waitForDeadline' in b) {
      await new Promise<void>((resolve) => {
        if (ctx.deadline.signal.aborted) resolve();
        else ctx.deadline.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return {
        ...base,
        allowed: false,
        inconclusive: true,
        reasons: [{ code: 'TIMEOUT', message: 'deadline passed' }],
        policies: [],
      };
    }
    if ('deny' in b) {
      return {
        ...base,
        allowed: false,
        inconclusive: b.inconclusive ?? false,
        reasons: [
          {
            code: b.deny,
            message: b.message,
            ...(b.policy !== undefined ? { policy: b.policy } : {}),
          },
        ],
        policies: b.policy !== undefined ? [b.policy] : [],
      };
    }
    if ('warn' in b) {
      return {
        ...base,
        allowed: true,
        digest: b.digest ?? fakeDigest(img.image),
        reasons: [],
        warnings: [b.warn],
        policies: [b.policy],
      };
    }
    if ('audit' in b) {
      return {
        ...base,
        allowed: true,
        digest: fakeDigest(img.image),
        reasons: [],
        audits: [{ code: b.audit, message: b.message, policy: b.policy }],
        policies: [b.policy],
      };
    }
    return {
      ...base,
      allowed: true,
      digest: b.digest ?? fakeDigest(img.image),
      reasons: [],
      policies: [b.policy ?? 'ClusterTrustPolicy/default'],
    };
  }
}

/** A gate for in-flight tests: `promise` resolves when `release()` is called. */
export function createGate(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((r) => {
    release = r;
  });
  return { promise, release };
}

/** A log sink that keeps parsed lines. */
export class MemorySink {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  write(chunk: string): boolean {
    this.raw.push(chunk);
    for (const line of chunk.split('\n'))
      if (line !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
    return true;
  }
}
