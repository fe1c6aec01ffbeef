// SPDX-License-Identifier: Apache-2.0
// Policy files (`--policy PATH`, `--policies DIR`, `trustgate policy validate`): YAML/JSON, multi-
// document, CRs or the seed format, every error located as file:line plus field path.

import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import {
  LineCounter,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Node as YamlNode,
} from 'yaml';
import { ConfigError, type FieldError } from '../core/errors.js';
import { compilePolicy } from '../core/policy/compile.js';
import { isSeedDocument, seedToResources } from '../core/policy/seed.js';
import type { CompiledPolicy, TrustPolicyResource } from '../core/policy/types.js';
import { validatePolicyResource } from '../core/policy/validate.js';

/** Extensions read from a policy directory (non-recursive). */
export const POLICY_EXTENSIONS: readonly string[] = ['.yaml', '.yml', '.json'];
/** A policy file larger than this is refused: policies are small, huge inputs are mistakes or attacks. */
export const MAX_POLICY_FILE_BYTES = 4 * 1024 * 1024;
/** YAML alias expansion cap (billion-laughs). */
const MAX_ALIAS_COUNT = 100;

export interface LoadedPolicies {
  readonly policies: CompiledPolicy[];
  readonly resources: TrustPolicyResource[];
  readonly errors: FieldError[];
}

/** One parsed YAML document, with a way to find the line of a field path inside it. */
export interface PolicyDocument {
  readonly value: unknown;
  /** 1-based line of the deepest node on `path` (`spec.images[0]`, `trust.repositories["a/*"].allow`). */
  locate(path: string): number;
}

/** Split a field path into keys and indices: `a.b[0]["x y"]` → `['a', 'b', 0, 'x y']`. */
export function parseFieldPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  let i = 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      i += 1;
    } else if (c === '[' && path[i + 1] === '"') {
      // A JSON string: find its closing quote, skipping escaped characters.
      let j = i + 2;
      while (j < path.length && path[j] !== '"') j += path[j] === '\\' ? 2 : 1;
      out.push(JSON.parse(path.slice(i + 1, j + 1)) as string);
      i = j + 2;
    } else if (c === '[') {
      const j = path.indexOf(']', i);
      const end = j < 0 ? path.length : j;
      out.push(Number(path.slice(i + 1, end)));
      i = end + 1;
    } else {
      let j = i;
      while (j < path.length && path[j] !== '.' && path[j] !== '[') j += 1;
      out.push(path.slice(i, j));
      i = j;
    }
  }
  return out;
}

function toDocument(
  contents: YamlNode | null,
  value: unknown,
  lines: LineCounter,
  docStart: number,
): PolicyDocument {
  const lineOf = (offset: number): number => lines.linePos(offset).line;
  return {
    value,
    locate(path: string): number {
      let node: unknown = contents;
      let line = lineOf(contents?.range?.[0] ?? docStart);
      for (const seg of parseFieldPath(path)) {
        if (isMap(node)) {
          const pair = node.items.find(
            (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
          );
          if (!pair) return line;
          const keyNode = pair.key as YamlNode;
          line = lineOf(keyNode.range?.[0] ?? 0);
          node = pair.value;
          // A scalar value is the most precise place; a block collection starts on a later line.
          if (isScalar(node) && node.range) line = lineOf(node.range[0]);
        } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
          node = node.items[seg];
          const range = (node as YamlNode | null)?.range;
          if (range) line = lineOf(range[0]);
        } else {
          return line;
        }
      }
      return line;
    },
  };
}

/**
 * Parse YAML/JSON text (multi-document) into documents that can locate field paths.
 * Syntax errors come back as FieldErrors with lines; empty documents are skipped.
 */
export function parsePolicyText(
  text: string,
  file?: string,
): { documents: PolicyDocument[]; errors: FieldError[] } {
  const lines = new LineCounter();
  const documents: PolicyDocument[] = [];
  const errors: FieldError[] = [];
  const where = file !== undefined ? { file } : {};
  for (const doc of parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true })) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        errors.push({
          ...where,
          line: lines.linePos(e.pos[0]).line,
          path: '',
          message: `YAML syntax: ${e.message.split('\n')[0] ?? ''}`,
        });
      }
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      errors.push({
        ...where,
        line: lines.linePos(doc.range[0]).line,
        path: '',
        message: `YAML: ${(err as Error).message}`,
      });
      continue;
    }
    // `---` with nothing after it: an empty document, not an error.
    if (value === null || value === undefined) continue;
    documents.push(toDocument(doc.contents, value, lines, doc.range[0]));
  }
  return { documents, errors };
}

function located(
  doc: PolicyDocument,
  file: string | undefined,
  errors: readonly FieldError[],
): FieldError[] {
  return errors.map((e) => ({
    ...(file !== undefined ? { file } : {}),
    line: doc.locate(e.path),
    path: e.path,
    message: e.message,
  }));
}

/**
 * Validate and compile every policy in a text: CRs (ClusterTrustPolicy / TrustPolicy) and
 * seed-format (`version: "2.0"`) documents. Never throws for bad input.
 * @param seen policy id → where it was first defined, shared across files to catch duplicates.
 */
export function loadPolicyText(
  text: string,
  file?: string,
  seen: Map<string, string> = new Map(),
): LoadedPolicies {
  const parsed = parsePolicyText(text, file);
  const errors = [...parsed.errors];
  const resources: TrustPolicyResource[] = [];
  const policies: CompiledPolicy[] = [];
  for (const doc of parsed.documents) {
    let found: TrustPolicyResource[];
    if (isSeedDocument(doc.value)) {
      const seed = seedToResources(doc.value);
      errors.push(...located(doc, file, seed.errors));
      found = seed.resources;
    } else {
      const checked = validatePolicyResource(doc.value);
      if (!checked.ok) {
        errors.push(...located(doc, file, checked.errors));
        continue;
      }
      found = [checked.resource];
    }
    for (const resource of found) {
      try {
        const policy = compilePolicy(resource);
        const namePath = isSeedDocument(doc.value) ? '' : 'metadata.name';
        const here = `${file ?? '<input>'}:${doc.locate(namePath)}`;
        const first = seen.get(policy.id);
        if (first !== undefined) {
          errors.push(
            ...located(doc, file, [
              {
                path: namePath,
                message: `${policy.id} is defined twice (first at ${first}); rename one`,
              },
            ]),
          );
          continue;
        }
        seen.set(policy.id, here);
        policies.push(policy);
        resources.push(resource);
      } catch (err) {
        // Validation passed, so only unresolvable references (caBundleRef & co.) remain.
        const fieldErrors =
          err instanceof ConfigError ? err.fieldErrors : [{ path: '', message: String(err) }];
        errors.push(
          ...located(
            doc,
            file,
            fieldErrors.map((e) => ({
              path: e.path,
              message: `${e.message} (a policy file has no cluster to read ConfigMaps/Secrets from; inline the PEM instead)`,
            })),
          ),
        );
      }
    }
  }
  return { policies, resources, errors };
}

async function listFiles(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new ConfigError(
      'USAGE',
      `cannot read policy path ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && POLICY_EXTENSIONS.includes(extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort()
    .map((name) => join(path, name));
}

/**
 * Load policies from a file (multi-document YAML or JSON) or a directory (*.yaml, *.yml, *.json,
 * non-recursive, in name order). Every error carries file, 1-based line and field path.
 * @throws ConfigError USAGE when the path itself cannot be read.
 */
export async function loadPolicies(path: string): Promise<LoadedPolicies> {
  const policies: CompiledPolicy[] = [];
  const resources: TrustPolicyResource[] = [];
  const errors: FieldError[] = [];
  const seen = new Map<string, string>();
  for (const file of await listFiles(path)) {
    let text: string;
    try {
      const info = await stat(file);
      if (info.size > MAX_POLICY_FILE_BYTES) {
        errors.push({
          file,
          line: 1,
          path: '',
          message: `is larger than ${MAX_POLICY_FILE_BYTES} bytes; split it`,
        });
        continue;
      }
      text = await readFile(file, 'utf8');
    } catch (err) {
      errors.push({ file, path: '', message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const loaded = loadPolicyText(text, file, seen);
    errors.push(...loaded.errors);
    policies.push(...loaded.policies);
    resources.push(...loaded.resources);
  }
  return { policies, resources, errors };
}

/** `file:line: path: message`, leaving out the parts that are unknown. */
export function formatFieldError(e: FieldError): string {
  const where =
    e.file !== undefined
      ? `${e.file}${e.line !== undefined ? `:${e.line}` : ''}: `
      : e.line !== undefined
        ? `line ${e.line}: `
        : '';
  return `${where}${e.path !== '' ? `${e.path}: ` : ''}${e.message}`;
}
