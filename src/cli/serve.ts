// SPDX-License-Identifier: Apache-2.0
// `trustgate serve`: build the webhook from config, policies (CRs through informers, or a
// directory), TLS material and metrics; run until SIGTERM; then drain in-flight requests.

import { createAdmissionHandler, createPolicyAdmissionHandler } from '../admission/handler.js';
import {
  createAdmissionServer,
  createMetricsServer,
  type AdmissionServer,
} from '../admission/server.js';
import { buildVerifier, forgetChangedPolicies } from '../app.js';
import type { Config } from '../config/config.js';
import { ConfigError } from '../core/errors.js';
import { compilePolicy } from '../core/policy/compile.js';
import { validatePolicyResource } from '../core/policy/validate.js';
import type { K8sLogger } from '../k8s/client.js';
import { PolicyStore } from '../k8s/policy-store.js';
import type { Io } from '../main.js';
import { createBufferedSink } from '../observability/line-buffer.js';
import { createJsonLogger, serializeError, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { loadPolicies } from '../policy-files/load.js';
import { mergeCredentialProviders, parseDockerConfig } from '../registry/credentials.js';
import { createCertSource, type CertificatePair } from '../tls/cert-source.js';
import { generateDevCertificate } from '../tls/dev-cert.js';
import { systemClock, type CredentialProvider, type NamespaceSource } from '../verify/ports.js';
import { flag, parseArgs, parsePort } from './args.js';
import { loadConfigFile } from './common.js';
import { EXIT } from './output.js';

interface PolicyRuntime {
  readonly store: PolicyStore;
  /** Policies (and namespaces, in cluster mode) have synced: `/readyz`. */
  ready(): boolean;
  readonly namespaces?: NamespaceSource;
  readonly credentialsFor?: Parameters<typeof createAdmissionHandler>[0]['credentialsFor'];
  stop(): Promise<void>;
}

/** `--policies DIR`: compile every policy once; any invalid file stops the start (exit 2). */
async function filePolicies(dir: string, logger: Logger): Promise<PolicyRuntime> {
  const { policies, errors } = await loadPolicies(dir);
  if (errors.length > 0)
    throw new ConfigError('INVALID_POLICY', `invalid policies in ${dir}`, { fieldErrors: errors });
  const store = new PolicyStore();
  for (const p of policies) store.upsert(p.id, p);
  store.markReady();
  logger.info('policies loaded from files', { dir, policies: policies.map((p) => p.id) });
  return { store, ready: () => store.ready(), stop: () => Promise.resolve() };
}

/** CR mode: informers on both policy kinds and on namespaces, status writes, pull secrets. */
async function clusterPolicies(
  config: Config,
  kubeconfigPath: string | undefined,
  logger: Logger,
  metrics: Metrics,
): Promise<PolicyRuntime> {
  // Loaded here, not at the top: @kubernetes/client-node alone takes over a second to import,
  // which file mode (`--policies`) never needs and which SPEC §7's "ready < 1 s" cannot afford.
  // One at a time: Jest's ESM loader fails on concurrent dynamic imports sharing a dependency.
  const { createKubeClients, currentNamespace, loadKubeConfig } = await import('../k8s/client.js');
  const { createApiKeyRefReader } = await import('../k8s/key-material.js');
  const { NamespaceInformer } = await import('../k8s/namespaces.js');
  const { PolicyInformer } = await import('../k8s/policy-informer.js');
  const { createPullSecretResolver } = await import('../k8s/pull-secrets.js');
  const { createStatusWriter } = await import('../k8s/status.js');
  const kc = loadKubeConfig(kubeconfigPath !== undefined ? { kubeconfigPath } : {});
  const clients = createKubeClients(kc);
  // observability's Logger satisfies the k8s logging port as it is.
  const k8sLogger: K8sLogger = logger;
  const defaultNamespace = currentNamespace(kc) ?? config.namespace;
  const store = new PolicyStore();
  const informer = new PolicyInformer({
    kc,
    custom: clients.custom,
    store,
    validate: validatePolicyResource,
    compile: (resource, { material }) => compilePolicy(resource, { material, defaultNamespace }),
    keyRefReader: createApiKeyRefReader(clients.core),
    statusWriter: createStatusWriter({
      custom: clients.custom,
      clock: systemClock,
      logger: k8sLogger,
    }),
    defaultNamespace,
    logger: k8sLogger,
  });
  const namespaces = new NamespaceInformer({ kc, core: clients.core, logger: k8sLogger });
  const resolvePullSecrets = createPullSecretResolver({
    coreApi: clients.core,
    cacheTtlMs: config.cache.tagTtlMs,
    clock: systemClock,
    logger: k8sLogger,
    onApiRead: (seconds) => metrics.recordUpstream('kubernetes', seconds),
  });
  const configured = config.registry.pullSecrets.map((ref) => {
    const [namespace, name] = ref.includes('/') ? ref.split('/', 2) : [defaultNamespace, ref];
    return { namespace: namespace!, name: name! };
  });
  await Promise.all([informer.start(), namespaces.start()]);
  const credentialsFor = async (req: {
    namespace: string;
    serviceAccountName: string;
    pullSecretNames: readonly string[];
  }): Promise<CredentialProvider | undefined> => {
    const [own, ...shared] = await Promise.all([
      resolvePullSecrets({
        namespace: req.namespace,
        serviceAccountName: req.serviceAccountName,
        imagePullSecrets: req.pullSecretNames,
      }),
      ...configured.map((c) =>
        resolvePullSecrets({
          namespace: c.namespace,
          imagePullSecrets: [c.name],
          serviceAccountName: null,
        }),
      ),
    ]);
    const docs = [...(own ?? []), ...shared.flat()];
    const providers = docs.flatMap((doc) => {
      try {
        return [parseDockerConfig(doc, 'pull secret')];
      } catch (err) {
        logger.warn('ignoring a malformed pull secret', { error: serializeError(err) });
        return [];
      }
    });
    return providers.length > 0 ? mergeCredentialProviders(...providers) : undefined;
  };
  return {
    store,
    ready: () => store.ready() && namespaces.synced(),
    namespaces,
    credentialsFor,
    stop: async () => {
      await Promise.all([informer.stop(), namespaces.stop()]);
    },
  };
}

function tlsMaterial(
  args: { devCert: boolean; certFile: string | undefined; keyFile: string | undefined },
  logger: Logger,
): { pair: CertificatePair; watch?: (apply: (p: CertificatePair) => void) => () => void } {
  if (args.devCert) {
    if (args.certFile || args.keyFile)
      throw new ConfigError('USAGE', '--dev-cert and --tls-cert/--tls-key are exclusive');
    const pair = generateDevCertificate({ hosts: ['localhost', '127.0.0.1', '::1'], days: 30 });
    logger.warn(
      'serving with a generated self-signed development certificate (--dev-cert); never use it in a cluster',
      {},
    );
    return { pair };
  }
  if (!args.certFile || !args.keyFile) {
    throw new ConfigError(
      'USAGE',
      'serve needs --tls-cert FILE and --tls-key FILE (or --dev-cert for local use)',
    );
  }
  const source = createCertSource({ certFile: args.certFile, keyFile: args.keyFile, logger });
  return {
    pair: source.current(),
    watch: (apply) => {
      source.watch(apply);
      return () => source.close();
    },
  };
}

function watchPolicyMetrics(store: PolicyStore, metrics: Metrics): void {
  const update = (): void =>
    metrics.setPolicies({ ready: store.counts().valid, invalid: store.counts().invalid });
  update();
  store.onChange(update);
}

type StopCause = 'SIGTERM' | 'SIGINT' | 'aborted' | 'timeout';

/** Where SIGTERM/SIGINT arrive: `process`, or an EventEmitter in tests. */
export type SignalSource = Pick<NodeJS.EventEmitter, 'on' | 'off'>;

/** SIGTERM, SIGINT and an AbortSignal's abort, heard through one set of listeners. */
export interface StopSignals {
  /**
   * The next stop not yet taken (one that came while nobody waited is kept for the next call), or
   * 'timeout' after `timeoutMs`.
   */
  next(timeoutMs?: number): Promise<StopCause>;
  /** Remove the listeners: from then on a SIGTERM or SIGINT gets Node's default (the process ends). */
  dispose(): void;
}

/**
 * Listen to SIGTERM/SIGINT on `signals` and to `abort` until dispose(). One set of listeners for a
 * whole shutdown: with none, Node's default handling of a signal ends the process at once, with no
 * drain and no final flush.
 */
export function stopSignals(signals: SignalSource, abort?: AbortSignal): StopSignals {
  const kept: StopCause[] = [];
  const waiters: ((cause: StopCause) => void)[] = [];
  const deliver = (cause: StopCause): void => {
    const waiter = waiters.shift();
    if (waiter) waiter(cause);
    else kept.push(cause);
  };
  const onTerm = (): void => deliver('SIGTERM');
  const onInt = (): void => deliver('SIGINT');
  const onAbort = (): void => deliver('aborted');
  signals.on('SIGTERM', onTerm);
  signals.on('SIGINT', onInt);
  if (abort?.aborted) kept.push('aborted');
  else abort?.addEventListener('abort', onAbort, { once: true });
  return {
    next(timeoutMs) {
      const cause = kept.shift();
      if (cause !== undefined) return Promise.resolve(cause);
      return new Promise((resolve) => {
        const waiter = (c: StopCause): void => {
          clearTimeout(timer);
          resolve(c);
        };
        const timer =
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                waiters.splice(waiters.indexOf(waiter), 1);
                resolve('timeout');
              }, timeoutMs);
        waiters.push(waiter);
      });
    },
    dispose() {
      signals.off('SIGTERM', onTerm);
      signals.off('SIGINT', onInt);
      abort?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Serve until told to stop. SIGTERM (Kubernetes) first keeps serving for `delayMs` with readiness
 * off, so calls the apiserver still routes here until the endpoints update are answered, not
 * refused (a second SIGTERM, a SIGINT or an abort ends that early). SIGINT (a terminal's Ctrl-C)
 * and an abort skip the delay. The caller then stops accepting and drains.
 */
export async function untilShutdown(opts: {
  readonly server: Pick<AdmissionServer, 'beginDrain'>;
  readonly delayMs: number;
  readonly logger: Logger;
  readonly stops: StopSignals;
}): Promise<void> {
  const cause = await opts.stops.next();
  if (cause !== 'SIGTERM' || opts.delayMs <= 0) return;
  opts.server.beginDrain();
  const seconds = opts.delayMs / 1000;
  opts.logger.info(
    `shutting down: readiness off, serving for ${seconds} s while endpoints update`,
    { delaySeconds: seconds },
  );
  await opts.stops.next(opts.delayMs);
}

/**
 * {@link untilShutdown}, then stop accepting and wait for in-flight requests (`server.close()`).
 * A SIGTERM, SIGINT or abort during that wait cuts the remaining connections, so the caller's
 * cleanup and final flush still run before the kubelet (or an impatient user) kills the process.
 */
export async function shutdown(opts: {
  readonly server: Pick<AdmissionServer, 'beginDrain' | 'close'> & {
    readonly server: Pick<AdmissionServer['server'], 'closeAllConnections'>;
  };
  readonly delayMs: number;
  readonly logger: Logger;
  readonly stops: StopSignals;
  /** Runs once the delay is over, right before the listener closes. */
  readonly beforeClose?: () => void;
}): Promise<void> {
  await untilShutdown(opts);
  opts.logger.info('shutting down: draining in-flight requests', {});
  opts.beforeClose?.();
  let drained = false;
  const closing = opts.server.close().finally(() => {
    drained = true;
  });
  void opts.stops.next().then((cause) => {
    if (drained) return;
    opts.logger.warn(`${cause} while draining: closing the remaining connections`, { cause });
    opts.server.server.closeAllConnections();
  });
  await closing;
}

export async function runServe(
  argv: readonly string[],
  io: Io,
  signal?: AbortSignal,
  /** Where SIGTERM/SIGINT arrive; default `process`. */
  signals: SignalSource = process,
): Promise<number> {
  const args = parseArgs(argv, {
    config: { value: true },
    policies: { value: true },
    port: { value: true },
    'metrics-port': { value: true },
    host: { value: true },
    'tls-cert': { value: true },
    'tls-key': { value: true },
    'dev-cert': {},
    kubeconfig: { value: true },
  });
  if (args.positionals.length > 0)
    throw new ConfigError('USAGE', `serve takes no arguments, got ${args.positionals.join(' ')}`);
  const port = parsePort(flag(args, 'port'), 'port', 8443);
  const metricsPort = parsePort(flag(args, 'metrics-port'), 'metrics-port', 9090);
  const host = flag(args, 'host') ?? '0.0.0.0';
  const config = await loadConfigFile(flag(args, 'config'));
  // One stdout write per flush interval, not one per audit line (line-buffer.ts). Flushed at
  // the end below and, for any other way out (a throw, process.exit), on the 'exit' event.
  const out = createBufferedSink(io.stdout);
  const flushOnExit = (): void => out.flush();
  process.on('exit', flushOnExit);
  const logger = createJsonLogger({ stream: out, base: { component: 'trustgate' } });
  const metrics = createMetrics({ defaultMetrics: true });
  const tls = tlsMaterial(
    {
      devCert: args.flags.has('dev-cert'),
      certFile: flag(args, 'tls-cert'),
      keyFile: flag(args, 'tls-key'),
    },
    logger,
  );

  const policyDir = flag(args, 'policies');
  const runtime =
    policyDir !== undefined
      ? await filePolicies(policyDir, logger)
      : await clusterPolicies(config, flag(args, 'kubeconfig'), logger, metrics);
  watchPolicyMetrics(runtime.store, metrics);

  const bundle = buildVerifier({
    config,
    policies: runtime.store,
    ...(runtime.namespaces ? { namespaces: runtime.namespaces } : {}),
    clock: systemClock,
    metrics,
    registry: true,
  });
  // A changed policy's cached outcomes go, and so do memoised verdicts of the old policy set;
  // other policies keep their outcomes, so their verdicts are rebuilt without upstream calls.
  forgetChangedPolicies(runtime.store, bundle);

  const handler = createAdmissionHandler({
    verifier: bundle.verifier,
    clock: systemClock,
    logger,
    metrics,
    ...(runtime.credentialsFor ? { credentialsFor: runtime.credentialsFor } : {}),
    defaultTimeoutMs: config.defaultTimeoutMs,
    marginMs: config.timeoutMarginMs,
    mutate: config.mutate,
  });
  const policyHandler = createPolicyAdmissionHandler({
    validatePolicyObject: (obj) => {
      const r = validatePolicyResource(obj);
      return r.ok ? [] : r.errors;
    },
    logger,
  });
  const server = createAdmissionServer({
    handler,
    policyHandler,
    tls: tls.pair,
    ready: () => runtime.ready(),
    logger,
  });
  const stopWatching = tls.watch?.((pair) => server.setCertificate(pair));
  const metricsServer = createMetricsServer({ metrics, logger });
  // From before serving until the final flush: SIGTERM/SIGINT always have a listener here.
  const stops = stopSignals(signals, signal);
  try {
    const addr = await server.listen(port, host);
    const maddr = await metricsServer.listen(metricsPort, host);
    logger.info('trustgate is serving', {
      webhook: `https://${addr.address}:${addr.port}`,
      metrics: `http://${maddr.address}:${maddr.port}/metrics`,
      policies: runtime.store.current().length,
      mode: policyDir !== undefined ? 'files' : 'cluster',
    });

    await shutdown({
      server,
      delayMs: config.shutdownDelayMs,
      logger,
      stops,
      ...(stopWatching ? { beforeClose: stopWatching } : {}),
    });
    await metricsServer.close();
    await runtime.stop();
    await bundle.close();
    logger.info('stopped', {});
    out.flush();
  } finally {
    // Only now: until the final flush a signal must not end the process (Node's default).
    stops.dispose();
  }
  process.off('exit', flushOnExit);
  return EXIT.ok;
}
