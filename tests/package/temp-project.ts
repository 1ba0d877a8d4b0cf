// A throwaway npm project that installs the packed tarball the way a user would, offline when it
// can: its package-lock.json is assembled from the repository's own lock (the dependencies' exact
// versions, tarball URLs and integrity hashes), so `npm ci --offline` takes every dependency from
// npm's cache, which the repository's own `npm ci` filled. If the cache lacks one, it falls back to
// `npm install --prefer-offline` (the registry).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The fields of the package's package.json used here. */
export interface PackageJson {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
}

type LockEntry = Record<string, unknown> & { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };

/** npm without prompts, audit, funding or update checks. */
export const NPM_ENV = {
  ...process.env,
  npm_config_yes: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_loglevel: 'error',
};

export function run(cmd: string, args: string[], cwd: string, timeoutMs = 180_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: NPM_ENV, timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 });
}

/** Runs a command and throws with its output when it fails. */
export function runOk(cmd: string, args: string[], cwd: string, timeoutMs?: number): string {
  const r = run(cmd, args, cwd, timeoutMs);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with ${r.status ?? r.signal ?? r.error}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The lock entry npm would use for `dep` required from the package at `from` ('' = root). */
function lockPath(packages: Record<string, LockEntry>, dep: string, from: string): string | null {
  let base = from;
  for (;;) {
    const p = `${base ? `${base}/` : ''}node_modules/${dep}`;
    if (packages[p]) return p;
    if (!base) return null;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

/**
 * A lockfile for a project depending only on the tarball: the tarball's entry plus the closure of
 * its dependencies, copied from the repository lock (same paths, so nesting is kept).
 */
export function consumerLock(repoLockPath: string, pkg: PackageJson, tarball: string): object {
  const repo = JSON.parse(readFileSync(repoLockPath, 'utf8')).packages as Record<string, LockEntry>;
  const packages: Record<string, LockEntry> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: { [pkg.name]: `file:${tarball}` } },
    // npm ci links the bins the lock lists (it does not read them from the tarball).
    [`node_modules/${pkg.name}`]: { version: pkg.version, resolved: `file:${tarball}`, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  const queue: Array<[string, string]> = Object.keys(pkg.dependencies).map((d) => [d, '']);
  while (queue.length) {
    const [dep, from] = queue.shift()!;
    const p = lockPath(repo, dep, from);
    if (!p) throw new Error(`package-lock.json has no entry for ${dep} (needed by ${from || pkg.name})`);
    if (packages[p]) continue;
    // In the consumer every one of them is a production dependency.
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = repo[p];
    packages[p] = entry;
    for (const d of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) queue.push([d, p]);
  }
  return { name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

/** Installs `tarball` (a file in `dir`) into the project `dir`; returns how it went. */
export function installTarball(dir: string, repoLockPath: string, pkg: PackageJson, tarball: string): string {
  const manifest = { name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: { [pkg.name]: `file:${tarball}` } };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(consumerLock(repoLockPath, pkg, tarball), null, 2)}\n`);
  const offline = run('npm', ['ci', '--offline'], dir);
  if (offline.status === 0) return 'npm ci --offline (dependencies from the npm cache)';
  rmSync(join(dir, 'package-lock.json'), { force: true });
  rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
  runOk('npm', ['install', '--prefer-offline'], dir);
  return `npm install --prefer-offline (offline install failed: ${offline.stderr.trim().split('\n')[0]})`;
}
