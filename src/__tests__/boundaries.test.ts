// SPDX-License-Identifier: Apache-2.0
// The dependency direction of STYLE §2, checked on resolved import paths (like policy-controller's
// depcheck_test.go); eslint.config.js enforces the same rows per specifier while editing.

import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What one import names: a package (`node:crypto`, `undici`) or a file under src/. */
type ImportTarget =
  | { readonly kind: 'package'; readonly name: string }
  | { readonly kind: 'src'; readonly path: string }
  | { readonly kind: 'outside'; readonly path: string };

/** One STYLE §2 row: files under `folder` may import what `allows` accepts. */
interface Boundary {
  readonly folder: string;
  readonly why: string;
  readonly allows: (target: ImportTarget, file: string) => boolean;
}

const under = (path: string, ...prefixes: string[]): boolean =>
  prefixes.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
const packageIs = (name: string, ...packages: string[]): boolean =>
  packages.some((p) => name === p || name.startsWith(`${p}/`));

/** Imports of anything under src/ other than the listed prefixes (`x/` folder, `x.ts` file). */
const srcOnly =
  (...prefixes: string[]) =>
  (t: ImportTarget): boolean =>
    t.kind !== 'src' || under(t.path, ...prefixes);

const BOUNDARIES: readonly Boundary[] = [
  {
    folder: 'core/',
    why: 'the pure zone imports only core/**, node:crypto, node:buffer (and ajv in core/policy)',
    allows: (t, file) =>
      t.kind === 'src'
        ? under(t.path, 'core/')
        : t.kind === 'package' &&
          (t.name === 'node:crypto' ||
            t.name === 'node:buffer' ||
            (file.startsWith('core/policy/') && packageIs(t.name, 'ajv'))),
  },
  {
    folder: 'verify/',
    why: 'verify reaches registries, Kubernetes and caches only through verify/ports.ts',
    allows: (t) =>
      t.kind === 'src'
        ? under(t.path, 'verify/', 'core/')
        : t.kind === 'package' && !packageIs(t.name, 'undici', '@kubernetes/client-node'),
  },
  {
    folder: 'admission/',
    why: 'the admission edge never imports registry/ or k8s/ (nor the composition roots)',
    allows: (t) =>
      t.kind !== 'src' ||
      !under(t.path, 'registry/', 'k8s/', 'cli/', 'policy-files/', 'main.ts', 'app.ts'),
  },
  {
    folder: 'registry/',
    why: 'registry implements verify/ports and imports only core/errors, core/reference, core/limits',
    allows: (t) =>
      t.kind === 'src'
        ? under(
            t.path,
            'registry/',
            'core/errors.ts',
            'core/reference.ts',
            'core/limits.ts',
            'verify/ports.ts',
            'verify/deadline.ts',
          )
        : t.kind === 'package' && !packageIs(t.name, '@kubernetes/client-node'),
  },
  {
    folder: 'k8s/',
    why: 'k8s imports only core/** and verify/ports',
    allows: srcOnly('k8s/', 'core/', 'verify/ports.ts'),
  },
  {
    folder: 'policy-files/',
    why: 'policy files on disk feed core/policy only',
    allows: srcOnly('policy-files/', 'core/'),
  },
  { folder: 'cache/', why: 'leaf module', allows: srcOnly('cache/', 'core/errors.ts') },
  {
    folder: 'observability/',
    why: 'leaf module',
    allows: srcOnly('observability/', 'core/errors.ts'),
  },
  { folder: 'config/', why: 'leaf module', allows: srcOnly('config/', 'core/errors.ts') },
  {
    // The Logger port (and its no-op default) lives in observability/logger.ts, itself a leaf.
    folder: 'tls/',
    why: 'leaf module: core/errors and the Logger port only',
    allows: srcOnly('tls/', 'core/errors.ts', 'observability/logger.ts'),
  },
];

/** Every non-test .ts file under src/, relative to src/ with `/` separators. */
function productionFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      return e.name === '__tests__' || e.name === '__fixtures__' ? [] : productionFiles(full);
    }
    return e.name.endsWith('.ts') ? [relative(SRC, full).split('\\').join('/')] : [];
  });
}

/**
 * Every module specifier in `text`: static imports and re-exports (also `import type`), dynamic
 * `import()` and `require()`, as TypeScript's own pre-processor finds them (comments and strings
 * that merely contain the word `import` are not imports).
 */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** Resolve a specifier written in src/`file` (NodeNext style: `./x.js` is `./x.ts`). */
function toTarget(file: string, specifier: string): ImportTarget {
  if (!specifier.startsWith('.')) return { kind: 'package', name: specifier };
  const joined = posix.normalize(posix.join(posix.dirname(file), specifier));
  const path = joined.replace(/\.js$/, '.ts');
  return path.startsWith('../') ? { kind: 'outside', path } : { kind: 'src', path };
}

/** `file: import 'x' — why` for every import of `file` that breaks a boundary or leaves src/. */
function violationsOf(file: string, text: string): string[] {
  const rows = BOUNDARIES.filter((b) => file.startsWith(b.folder));
  return importsOf(text).flatMap((specifier) => {
    const target = toTarget(file, specifier);
    if (target.kind === 'outside') return [`${file}: import '${specifier}' — leaves src/`];
    if (target.kind === 'src' && /(^|\/)__(tests|fixtures)__\//.test(target.path)) {
      return [`${file}: import '${specifier}' — test fixtures are not built into dist/`];
    }
    return rows
      .filter((b) => !b.allows(target, file))
      .map((b) => `${file}: import '${specifier}' — ${b.why} (STYLE §2)`);
  });
}

describe('import boundaries (STYLE §2)', () => {
  const files = productionFiles();

  it('finds the source tree', () => {
    expect(files).toEqual(expect.arrayContaining(['core/errors.ts', 'verify/ports.ts']));
  });

  describe('when every production file under src/ is scanned', () => {
    it('names no import outside its folder’s allow-list', () => {
      const violations = files.flatMap((f) => violationsOf(f, readFileSync(join(SRC, f), 'utf8')));
      expect(violations).toEqual([]);
    });
  });

  describe('when a file breaks a boundary', () => {
    it.each([
      ['core/reference.ts', "import { readFileSync } from 'node:fs';", 'node:fs'],
      ['core/policy/x.ts', "import type { Agent } from 'undici';", 'undici'],
      ['core/notary/x.ts', "export { httpRequest } from '../../registry/http.js';", 'registry'],
      ['core/x.ts', "const m = await import('../verify/ports.js');", 'verify/ports'],
      ['verify/x.ts', "import { OciClient } from '../registry/oci-client.js';", 'registry'],
      ['verify/x.ts', "import type { KubeConfig } from '@kubernetes/client-node';", 'client-node'],
      ['verify/x.ts', "import { TtlCache } from '../cache/ttl-cache.js';", 'cache'],
      ['admission/x.ts', "import { loadKeyMaterial } from '../k8s/key-material.js';", 'k8s'],
      ['cache/x.ts', "import { LIMITS } from '../core/limits.js';", 'core/limits'],
      ['tls/x.ts', "import { createMetrics } from '../observability/metrics.js';", 'metrics'],
      ['registry/x.ts', "import { parsePolicy } from '../core/policy/validate.js';", 'policy'],
      ['k8s/x.ts', "import { verify } from '../verify/image-verifier.js';", 'image-verifier'],
      [
        'admission/x.ts',
        "import { review } from '../__fixtures__/admission/factory.js';",
        'fixtures',
      ],
    ])('reports %s importing %s', (file, line, needle) => {
      const found = violationsOf(file, `// SPDX-License-Identifier: Apache-2.0\n${line}\n`);
      expect(found).toHaveLength(1);
      expect(found[0]).toContain(file);
      expect(found[0]).toContain(needle);
    });

    it('reports a multi-line type-only import', () => {
      const text = "import type {\n  Dispatcher,\n  Agent,\n} from 'undici';\n";
      expect(violationsOf('core/x.ts', text)).toEqual([
        "core/x.ts: import 'undici' — the pure zone imports only core/**, node:crypto, node:buffer (and ajv in core/policy) (STYLE §2)",
      ]);
    });
  });

  describe('when a file stays inside its allow-list', () => {
    it.each([
      [
        'core/notary/x.ts',
        "import { createHash } from 'node:crypto';\nimport { LIMITS } from '../limits.js';",
      ],
      ['core/policy/x.ts', "import Ajv from 'ajv';\nimport type { X } from '../notary/types.js';"],
      [
        'verify/x.ts',
        "import type { OciSource } from './ports.js';\nimport { x } from '../core/result.js';",
      ],
      [
        'registry/x.ts',
        "import { Agent } from 'undici';\nimport type { Deadline } from '../verify/ports.js';",
      ],
      ['tls/x.ts', "import { noopLogger } from '../observability/logger.js';"],
      ['main.ts', "import { NotaryClient } from './registry/notary-client.js';"],
    ])('reports nothing for %s', (file, text) => {
      expect(violationsOf(file, text)).toEqual([]);
    });

    it('ignores the word import in comments and strings', () => {
      const text = "// import { x } from 'undici';\nconst s = \"import 'node:fs'\";\n";
      expect(violationsOf('core/x.ts', text)).toEqual([]);
    });
  });
});
