// SPDX-License-Identifier: Apache-2.0
// ESLint flat config: @eslint/js + typescript-eslint recommendedTypeChecked (STYLE §5) and the
// per-folder import boundaries of STYLE §2 (backed by src/__tests__/boundaries.test.ts).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const TEST_FILES = ['**/__tests__/**', 'test/**', 'src/__fixtures__/**'];

// The globals the plain-JS entry points use (the `globals` package is not a direct dependency).
const NODE_GLOBALS = {
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  URL: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
};

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * STYLE §2, one row per folder under src/. `src` lists what a production file there may import
 * from the rest of src/ (a trailing `/` means the whole folder; its own folder is always allowed);
 * omitted = anything except what `denySrc` names. `packages` is an allow-list of bare specifiers
 * (a name also covers its subpaths), `denyPackages` a deny-list. No row = no restriction: main.ts,
 * app.ts and cli/ are composition roots. ESLint sees specifiers, so each row becomes one block per
 * directory depth (how many `../` reach src/); the test resolves real paths instead.
 */
const BOUNDARIES = [
  {
    folder: 'core',
    src: [],
    // node:buffer is the module behind the Buffer global core already uses; it is here for
    // isUtf8 (native, 25x faster than a fatal TextDecoder on a 2 MB targets role) and does no I/O.
    packages: ['node:crypto', 'node:buffer'],
    why: 'src/core is the pure zone: only core/**, node:crypto and node:buffer (STYLE §2, rule 1)',
  },
  {
    // The `core` row plus ajv for the TrustPolicy JSON Schema. It must stay after `core`: for
    // files under core/policy the later block's no-restricted-imports options win.
    folder: 'core/policy',
    src: ['core/'],
    packages: ['node:crypto', 'node:buffer', 'ajv'],
    why: 'src/core/policy is pure: only core/**, node:crypto, node:buffer and ajv (STYLE §2)',
  },
  {
    // An allow-list, stricter than the §2 prose ("never registry/k8s/cache"): the arrow diagram
    // gives verify/ exactly one outgoing edge, to core; everything else arrives through ports.
    folder: 'verify',
    src: ['core/'],
    denyPackages: ['undici', '@kubernetes/client-node'],
    why: 'src/verify reaches I/O only through verify/ports.ts; main.ts injects registry/k8s/cache (STYLE §2)',
  },
  {
    folder: 'admission',
    denySrc: ['registry/', 'k8s/', 'cli/', 'policy-files/', 'main.js', 'app.js'],
    why: 'src/admission never imports registry/ or k8s/ (STYLE §2)',
  },
  {
    folder: 'registry',
    src: [
      'core/errors.js',
      'core/reference.js',
      'core/limits.js',
      'verify/ports.js',
      'verify/deadline.js',
    ],
    denyPackages: ['@kubernetes/client-node'],
    why: 'src/registry implements verify/ports and imports only core/errors, core/reference, core/limits (STYLE §2)',
  },
  {
    folder: 'k8s',
    src: ['core/', 'verify/ports.js'],
    why: 'src/k8s imports only core/** and verify/ports (STYLE §2)',
  },
  {
    folder: 'policy-files',
    src: ['core/'],
    why: 'src/policy-files (policy YAML on disk → core/policy) imports only core/**',
  },
  // Leaf modules: nothing from trustgate except core/errors. None needs core/limits today, so it
  // is not allowed either (add it here and in the test the day a leaf truly needs a cap).
  { folder: 'cache', src: ['core/errors.js'], why: 'src/cache is a leaf module (STYLE §2)' },
  {
    folder: 'observability',
    src: ['core/errors.js'],
    why: 'src/observability is a leaf module (STYLE §2)',
  },
  { folder: 'config', src: ['core/errors.js'], why: 'src/config is a leaf module (STYLE §2)' },
  {
    // tls/cert-source logs reloads through the Logger port (and its no-op default); that module
    // is itself a leaf, so the edge adds no cycle and no I/O coupling.
    folder: 'tls',
    src: ['core/errors.js', 'observability/logger.js'],
    why: 'src/tls is a leaf module: core/errors and the Logger port only (STYLE §2)',
  },
];

/**
 * complexity: 10 (STYLE §5) holds for every file not listed here. These files held functions
 * above 10 when the rule arrived (2026-12-02). Most are parse-at-the-border functions over
 * attacker-controlled input (AdmissionReview, TUF/JWS/COSE, docker config, WWW-Authenticate),
 * where every shape guard is one branch; splitting them per field scatters the one place that
 * shows the whole accepted shape. Each number is that file's measured maximum: a ratchet that
 * fails on any growth. Lower a number (or delete the line) whenever a refactor allows it;
 * never raise one.
 */
const COMPLEXITY_BUDGET = {
  'src/admission/handler.ts': 25,
  'src/admission/review.ts': 25,
  'src/admission/server.ts': 24,
  'src/admission/workload-images.ts': 20,
  'src/core/crypto/canonical-json.ts': 14,
  'src/core/crypto/keys.ts': 14,
  'src/core/crypto/signature.ts': 17,
  'src/core/crypto/x509.ts': 12,
  'src/core/notary/metadata.ts': 15,
  'src/core/notary/rules.ts': 16,
  'src/core/notary/trusted-set.ts': 19,
  'src/core/notation/cbor.ts': 21,
  'src/core/notation/checks.ts': 25,
  'src/core/notation/der.ts': 13,
  'src/core/notation/envelope.ts': 25,
  'src/core/notation/rules.ts': 20,
  'src/core/notation/verify.ts': 12,
  'src/core/policy/compile.ts': 19,
  'src/core/policy/evaluate.ts': 21,
  'src/core/policy/glob.ts': 16,
  'src/core/policy/material.ts': 20,
  'src/core/policy/seed.ts': 32,
  'src/core/policy/validate.ts': 21,
  'src/core/reference.ts': 26,
  'src/k8s/key-material.ts': 20,
  'src/k8s/policy-informer.ts': 19,
  'src/k8s/pull-secrets.ts': 14,
  'src/k8s/status.ts': 12,
  'src/observability/logger.ts': 18,
  'src/policy-files/load.ts': 16,
  'src/registry/auth.ts': 15,
  'src/registry/credentials.ts': 26,
  'src/registry/http.ts': 17,
  'src/registry/notary-client.ts': 11,
  'src/registry/oci-client.ts': 22,
  'src/registry/registry-config.ts': 22,
  'src/tls/dev-cert.ts': 11,
  'src/verify/notary-evidence.ts': 17,
  'src/verify/notation-evidence.ts': 17,
};

const MAX_DEPTH = 4;

/** no-restricted-imports blocks for one boundary row, one per directory depth below the folder. */
function boundaryBlocks(row) {
  const ownTop = row.folder.split('/')[0];
  return Array.from({ length: MAX_DEPTH }, (_, depth) => {
    const segments = row.folder.split('/').length + depth;
    const toSrc = `^(?:\\.\\./){${segments}}`;
    const patterns = [
      {
        regex: '(^|/)__(fixtures|tests)__(/|$)',
        message: 'production code never imports test fixtures (they are not built into dist/)',
      },
    ];
    if (row.src) {
      const allowed = [`${ownTop}/`, ...row.src].map((p) =>
        p.endsWith('/') ? escapeRe(p) : `${escapeRe(p)}$`,
      );
      patterns.push({ regex: `${toSrc}(?!${allowed.join('|')})`, message: row.why });
    }
    if (row.denySrc) {
      const denied = row.denySrc.map((p) => (p.endsWith('/') ? escapeRe(p) : `${escapeRe(p)}$`));
      patterns.push({ regex: `${toSrc}(?:${denied.join('|')})`, message: row.why });
    }
    if (row.packages) {
      const allowed = row.packages.map((p) => `${escapeRe(p)}(?:/|$)`);
      patterns.push({ regex: `^(?!\\.{1,2}/)(?!${allowed.join('|')})`, message: row.why });
    }
    if (row.denyPackages) {
      const denied = row.denyPackages.map((p) => `${escapeRe(p)}(?:/|$)`);
      patterns.push({ regex: `^(?:${denied.join('|')})`, message: row.why });
    }
    return {
      name: `trustgate/boundaries/${row.folder}/depth-${depth}`,
      files: [`src/${row.folder}/${'*/'.repeat(depth)}*.ts`],
      ignores: TEST_FILES,
      rules: { 'no-restricted-imports': ['error', { patterns }] },
    };
  });
}

const boundaryConfigs = BOUNDARIES.flatMap(boundaryBlocks);

export default defineConfig(
  globalIgnores([
    'dist/',
    'coverage/',
    '.cache/',
    'charts/',
    'manifests/',
    'node_modules/',
    'src/__fixtures__/notation/notation*/',
    'src/__fixtures__/notary-v1/',
  ]),

  {
    name: 'trustgate/js',
    files: ['**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: NODE_GLOBALS },
    rules: {
      'require-await': 'error',
      'max-params': ['error', 4],
      complexity: ['error', 10],
    },
  },

  {
    name: 'trustgate/ts',
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
      // The TS variant of max-params: a `this:` parameter declaration is not a parameter.
      '@typescript-eslint/max-params': ['error', { max: 4 }],
      complexity: ['error', 10],
      // `_`-prefixed names are the house spelling of "deliberately unused" (also for tsc).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },

  {
    name: 'trustgate/src-exports',
    files: ['src/**/*.ts'],
    ignores: TEST_FILES,
    rules: { '@typescript-eslint/explicit-module-boundary-types': 'error' },
  },

  ...boundaryConfigs,

  ...Object.entries(COMPLEXITY_BUDGET).map(([file, max]) => ({
    name: `trustgate/complexity-budget/${file}`,
    files: [file],
    rules: { complexity: ['error', max] },
  })),

  {
    // Tests build fakes from partial objects and deliberately malformed documents (`any` is how
    // a test writes a TrustPolicy the schema must reject); the unsafe-* family would demand a
    // cast on every line of that. Fakes implement async ports with `async` methods that need no
    // `await`: `async` keeps a thrown error a rejection, exactly like the real adapter.
    // Floating promises stay errors: they hide failures.
    name: 'trustgate/tests',
    files: TEST_FILES.map((g) => (g.endsWith('/**') ? `${g}/*.ts` : g)),
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
      // Fakes dispatch on request shapes (a fake registry, apiserver, TUF proxy); 26 is the
      // measured maximum of test code on 2026-12-02 — a ratchet, not a target.
      complexity: ['error', 26],
    },
  },
);
