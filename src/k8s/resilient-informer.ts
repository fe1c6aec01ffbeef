// SPDX-License-Identifier: Apache-2.0
// A client-node ListWatch that survives: restarts after watch/list errors with capped, jittered
// exponential backoff, re-lists on 410 Gone (ListWatch does that), reports each completed list,
// and leaves no socket or timer behind after stop().

import {
  ADD,
  DELETE,
  ERROR,
  ListWatch,
  UPDATE,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { errorText, type K8sLogger } from './client.js';

/** Restart delays after an error: min(maxMs, initialMs·2^attempt), jittered to 50–100 %. */
export interface BackoffOptions {
  /** First delay (default 500 ms). */
  readonly initialMs?: number;
  /** Cap (default 30 s). */
  readonly maxMs?: number;
  /** Uniform [0,1) source for jitter (default Math.random; tests may pin it). */
  readonly random?: () => number;
}

/** Delay before restart number `attempt` (0-based). */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const initial = opts.initialMs ?? 500;
  const max = opts.maxMs ?? 30_000;
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  // "Equal jitter": never less than half the delay, so a flapping apiserver is not hammered,
  // and replicas restarting together spread out.
  return Math.round(base / 2 + (base / 2) * (opts.random ?? Math.random)());
}

export interface ResilientInformerOptions<T extends KubernetesObject> {
  readonly kc: KubeConfig;
  /** Collection path, e.g. `/apis/trustgate.dev/v1alpha1/trustpolicies`. */
  readonly path: string;
  /** Lists the collection (the typed client call for `path`). */
  readonly list: () => Promise<KubernetesListObject<T>>;
  /** For log lines. */
  readonly name: string;
  readonly logger: K8sLogger;
  readonly backoff?: BackoffOptions;
  readonly onAdd: (obj: T) => void;
  readonly onUpdate: (obj: T) => void;
  readonly onDelete: (obj: T) => void;
  /** After every completed list (initial sync and every re-list), once its add/update/delete
   *  callbacks have been delivered. */
  readonly onListed?: () => void;
}

/**
 * The client-node Watch, with the one thing ListWatch lacks: a watch that was still connecting when
 * stop() ran is aborted as soon as it connects (ListWatch only aborts the request it already holds).
 */
class StoppableWatch extends Watch {
  private current: AbortController | undefined;
  stopped = false;

  constructor(
    kc: KubeConfig,
    private readonly hooks: { beforeWatch: () => void; onEvent: () => void },
  ) {
    super(kc);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    if (this.stopped) {
      const idle = new AbortController();
      idle.abort();
      return idle;
    }
    this.hooks.beforeWatch();
    const ctl = await super.watch(
      path,
      queryParams,
      (phase, obj, data) => {
        this.hooks.onEvent();
        callback(phase, obj, data);
      },
      done,
    );
    this.current = ctl;
    if (this.stopped) ctl.abort();
    return ctl;
  }

  abort(): void {
    this.stopped = true;
    this.current?.abort();
    this.current = undefined;
  }
}

/** One collection kept in sync with the apiserver. Construct, then `start()`; `stop()` to end. */
export class ResilientInformer<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  private readonly watch: StoppableWatch;
  private restartTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private listedPending = false;
  private stopped = true;
  private listCount = 0;
  private restartCount = 0;

  constructor(private readonly opts: ResilientInformerOptions<T>) {
    this.watch = new StoppableWatch(opts.kc, {
      beforeWatch: () => this.afterList(),
      onEvent: () => {
        this.attempt = 0;
      },
    });
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = await opts.list();
      this.listedPending = true;
      this.attempt = 0;
      return result;
    };
    // Not makeInformer(): it builds its own Watch, and we need the StoppableWatch above.
    this.lw = new ListWatch<T>(opts.path, this.watch, list, false);
    this.lw.on(ADD, (o) => this.deliver(opts.onAdd, o));
    this.lw.on(UPDATE, (o) => this.deliver(opts.onUpdate, o));
    this.lw.on(DELETE, (o) => this.deliver(opts.onDelete, o));
    this.lw.on(ERROR, (err) => this.onError(err));
  }

  /** Start listing and watching. Resolves once the first list+watch attempt was made (not synced). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.watch.stopped = false;
    await this.lw.start().catch((err: unknown) => this.onError(err));
  }

  /** Stop watching; cancels a pending restart and aborts any open or connecting watch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.watch.abort();
    await this.lw.stop();
  }

  /** Objects currently known (the ListWatch cache). */
  objects(): readonly T[] {
    return this.lw.list();
  }

  /** Completed lists so far (1 after the initial sync; more after 410 re-lists). */
  lists(): number {
    return this.listCount;
  }

  /** Restarts after errors so far. */
  restarts(): number {
    return this.restartCount;
  }

  private deliver(cb: (obj: T) => void, obj: T): void {
    try {
      cb(obj);
    } catch (err) {
      // A handler bug must not break the watch loop (ListWatch calls us synchronously).
      this.opts.logger.error('informer handler failed', {
        informer: this.opts.name,
        err: errorText(err),
      });
    }
  }

  private afterList(): void {
    if (!this.listedPending) return;
    this.listedPending = false;
    this.listCount += 1;
    this.opts.onListed?.();
  }

  private onError(err: unknown): void {
    if (this.stopped || this.restartTimer) return;
    const delay = backoffDelay(this.attempt, this.opts.backoff);
    this.attempt += 1;
    this.opts.logger.warn('watch failed; restarting', {
      informer: this.opts.name,
      err: errorText(err),
      retryInMs: delay,
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.restartCount += 1;
      this.lw.start().catch((e: unknown) => this.onError(e));
    }, delay);
    this.restartTimer.unref();
  }
}
