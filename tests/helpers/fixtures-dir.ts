// Where the golden fixtures live: $SAM2_FIXTURES, else ../shared/fixtures next to the repository.

import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function fixturesDir(): string {
  return resolve(process.env.SAM2_FIXTURES ?? join(REPO_ROOT, '..', 'shared', 'fixtures'));
}

/** Absolute path of a file under the fixtures directory. */
export function fixturePath(...parts: string[]): string {
  return join(fixturesDir(), ...parts);
}

/** Every fixture directory (a subdirectory holding a fixture.json), sorted by name. */
export function listFixtureDirs(): string[] {
  const root = fixturesDir();
  if (!existsSync(root)) throw new Error(`fixtures directory ${root} does not exist (set SAM2_FIXTURES)`);
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'fixture.json')))
    .map((d) => join(root, d.name))
    .sort();
}
