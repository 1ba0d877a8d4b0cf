#!/usr/bin/env node
// Adds the lockfile entries of platform-specific optional packages that npm left out.
//
// Why: the npm registry mirror reachable here does not serve every platform build (e.g.
// @rollup/rollup-android-arm64 is a 404), so `npm install` silently drops those optional
// dependencies from package-lock.json — and `npm ci` then refuses the lock as "out of sync"
// ("Missing: @rollup/rollup-android-arm-eabi@ from lock file"). An entry with the version, os, cpu
// and libc is all npm ci needs: on this platform it skips those packages without fetching them.
//
// Usage (after every `npm install` that touches the lock):  node .ci/complete-lockfile.mjs [package-lock.json]
import fs from 'node:fs';

const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const packages = lock.packages;
if (!packages) throw new Error(`${file} has no "packages" map (lockfileVersion ${lock.lockfileVersion}; need 2 or 3)`);

const OS = ['aix', 'android', 'darwin', 'freebsd', 'linux', 'netbsd', 'openbsd', 'openharmony', 'sunos', 'win32'];
const CPU = { arm: 'arm', arm64: 'arm64', x64: 'x64', ia32: 'ia32', loong64: 'loong64', mips64el: 'mips64el', ppc64: 'ppc64', riscv64: 'riscv64', s390x: 's390x', wasm32: 'wasm32' };

/** os/cpu/libc of a platform package from its name (`<prefix>-<os>-<cpu>[-<abi>]` or `<scope>/<os>-<cpu>`). */
function platformOf(name) {
  const parts = name.replace(/^@[^/]+\//, '').split('-');
  for (let i = 0; i < parts.length - 1; i++) {
    if (!OS.includes(parts[i]) || !(parts[i + 1] in CPU)) continue;
    const abi = parts.slice(i + 2).join('-');
    const entry = { cpu: [CPU[parts[i + 1]]], os: [parts[i]] };
    if (/^(gnu|gnueabihf)$/.test(abi)) entry.libc = ['glibc'];
    else if (/^(musl|musleabihf)$/.test(abi)) entry.libc = ['musl'];
    else if (abi && !/^(eabi|msvc)$/.test(abi)) return null;
    return entry;
  }
  return null;
}

const added = [];
const unknown = [];
for (const [path, pkg] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    // npm looks a dependency up next to its dependent first, then in the top-level node_modules.
    const nested = `${path ? `${path}/` : ''}node_modules/${dep}`;
    if (packages[nested] || packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) {
      unknown.push(`${dep}@${version} (optional dependency of ${path || 'the root'})`);
      continue;
    }
    packages[`node_modules/${dep}`] = {
      version,
      cpu: platform.cpu,
      ...(pkg.dev ? { dev: true } : {}),
      ...(platform.libc ? { libc: platform.libc } : {}),
      optional: true,
      os: platform.os,
    };
    added.push(`${dep}@${version}`);
  }
}

lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b, 'en'))),
);
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `added ${added.length} lock entries: ${added.join(', ')}` : 'lockfile already complete');
if (unknown.length) {
  console.error(`missing optional dependencies that are not recognisable platform packages (fix by hand):\n  ${unknown.join('\n  ')}`);
  process.exit(1);
}
