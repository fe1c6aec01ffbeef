// SPDX-License-Identifier: Apache-2.0
// Installs the Debian packages the integration tests and the demo use (real notary-server,
// docker-registry, openssl, htpasswd, shellcheck, unzip), or names them when we are not root.
import { execFileSync, spawnSync } from 'node:child_process';

/** binary → Debian package */
export const SYSTEM_DEPS = {
  notary: 'notary',
  'notary-server': 'notary',
  'docker-registry': 'docker-registry',
  openssl: 'openssl',
  htpasswd: 'apache2-utils',
  shellcheck: 'shellcheck',
  unzip: 'unzip',
};

function has(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

/** Ensure every binary is present; returns true when all are. */
export function ensureSystemDeps(bins = Object.keys(SYSTEM_DEPS)) {
  const missing = [...new Set(bins.filter((b) => !has(b)).map((b) => SYSTEM_DEPS[b]))];
  if (missing.length === 0) return true;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(
      `trustgate: these Debian packages are needed and missing: ${missing.join(' ')}\n` +
        `  install them with: sudo apt-get install -y ${missing.join(' ')}`,
    );
    return false;
  }
  console.error(`trustgate: installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env,
  });
  return bins.every(has);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(ensureSystemDeps() ? 0 : 2);
}
