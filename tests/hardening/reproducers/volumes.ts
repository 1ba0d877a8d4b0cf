// Issue 13, items 3-5 (volumes): decompression bombs, non-finite voxels and scaling, degenerate
// affines, DICOM folders with strays. Each must end in a clear error or a correct read, fast and
// in bounded memory, through the entry points the CLI uses.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { main } from '../../../src/cli/main.js';
import { defaultWindow } from '../../../src/pipeline/prepare-volume.js';
import { readDicomSeries } from '../../../src/volume/dicom.js';
import { openNifti, readNifti } from '../../../src/volume/nifti.js';
import { readVolumeFile } from '../../../src/volume/node-files.js';
import { computeMapping } from '../../../src/volume/windowing.js';
import { buildNifti1, typedBytes } from '../../volume/helpers/nifti-builder.js';
import { writeSyntheticDicom } from '../../volume/helpers/dicom-writer.js';
import { deflateBomb, gzipBomb } from '../helpers/bombs.js';
import type { Reproducer } from '../helpers/reproducer.js';
import { tempDir } from '../helpers/temp-files.js';

/** A NIfTI-1 header (352 bytes incl. the extension flag) announcing `dim` of uint8 voxels. */
function header(dim: number[], extra: Partial<Parameters<typeof buildNifti1>[0]> = {}): Uint8Array {
  return buildNifti1({ dim: [3, ...dim, 1, 1, 1, 1], datatype: 2, bitpix: 8, ...extra }, new Uint8Array(0));
}

/** Runs the CLI in this process; throws its stderr when the exit status is not 0. */
async function cli(...argv: string[]): Promise<string> {
  const err: string[] = [];
  const out: string[] = [];
  const [e, l] = [console.error, console.log];
  console.error = (...a: unknown[]) => err.push(a.join(' '));
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  try {
    const code = await main(argv);
    if (code !== 0) throw new Error(`exit ${code}: ${err.join('\n')}`);
    return out.join('\n');
  } finally {
    console.error = e;
    console.log = l;
  }
}

/** A volume file in a fresh temporary folder; removed after `body`. */
async function inTemp<T>(files: Record<string, Uint8Array>, body: (dir: string) => Promise<T> | T): Promise<T> {
  const t = tempDir();
  try {
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(t.dir, name), bytes);
    return await body(t.dir);
  } finally {
    t.remove();
  }
}

/** A float32 volume n³ with values 0..999 and the given header fields. */
function floatVolume(n: number, edit: (v: Float32Array) => void = () => undefined, fields: Partial<Parameters<typeof buildNifti1>[0]> = {}): Uint8Array {
  const v = new Float32Array(n * n * n).map((_, i) => (i * 7919) % 1000);
  edit(v);
  return buildNifti1({ dim: [3, n, n, n, 1, 1, 1, 1], datatype: 16, bitpix: 32, ...fields }, typedBytes(v));
}

/** A deflated-transfer-syntax DICOM slice whose data set is followed by `zeroMiB` MiB of inflated zeros. */
function deflatedSlice(k: number, zeroMiB: number, rows = 512, columns = 512): Uint8Array {
  const plain = writeSyntheticDicom({
    rows,
    columns,
    position: [0, 0, 2 * k],
    instanceNumber: k + 1,
    transferSyntax: '1.2.840.10008.1.2.1.99',
    pixels: new Int16Array(rows * columns).map((_, i) => (i * 31 + k) % 2000),
  });
  const metaEnd = 132 + 12 + new DataView(plain.buffer, plain.byteOffset).getUint32(132 + 8, true);
  const body = deflateBomb(plain.subarray(metaEnd), zeroMiB);
  const out = new Uint8Array(metaEnd + body.length);
  out.set(plain.subarray(0, metaEnd));
  out.set(body, metaEnd);
  return out;
}

export const reproducers: Reproducer[] = [
  {
    name: '1 MB .nii.gz announcing 1 GiB, with a bad --box (segment refuses before inflating)',
    run: () =>
      inTemp({ 'bomb.nii.gz': gzipBomb(header([1024, 1024, 1024]), 1024) }, (dir) =>
        cli('segment', join(dir, 'bomb.nii.gz'), '--weights', join(dir, 'none.safetensors'), '--out', join(dir, 'm.nii.gz'), '--box', '0x7,1,2,2'),
      ),
    error: /--box expects x0,y0,x1,y1 \(four decimal numbers\), got "0x7,1,2,2"/,
  },
  {
    name: '1 MB .nii.gz announcing 1 GiB: the box is checked against the header alone',
    run: async () => {
      const bomb = gzipBomb(header([1024, 1024, 1024]), 1024);
      const opened = openNifti(bomb, { name: 'bomb.nii.gz' });
      if (opened.dims.join() !== '1024,1024,1024') throw new Error(`dims ${opened.dims}`);
      const { checkBox }: { checkBox: (box: readonly number[], w: number, h: number) => void } = await import('../../../src/volume/validate.js');
      checkBox([5000, 5000, 5001, 5001], opened.dims[0], opened.dims[1]);
    },
    error: /box \[5000, 5000, 5001, 5001\] lies outside the 1024×1024 slice/,
  },
  {
    name: '.nii.gz announcing 3 GiB: refused by the size cap before inflating',
    run: () => readNifti(gzipBomb(header([2048, 1536, 1024]), 4), { name: 'big.nii.gz' }),
    error: /big\.nii\.gz: the header announces 2048×1536×1024 uint8 \(3\.0 GiB\), more than the 2\.0 GiB limit/,
  },
  {
    name: '.nii.gz of a 64³ volume followed by 1 GiB of zeros: reads 64³ and stops',
    run: () => readNifti(gzipBomb(header([64, 64, 64]), 1024), { name: 'trailing.nii.gz' }),
    check: (v) => {
      const vol = v as ReturnType<typeof readNifti>;
      if (vol.dims.join() !== '64,64,64' || vol.data.length !== 64 ** 3) throw new Error('wrong volume');
    },
  },
  {
    name: '.nii.gz cut short',
    run: () => readNifti(gzipBomb(header([64, 64, 64]), 0).subarray(0, 200), { name: 'cut.nii.gz' }),
    error: /cut\.nii\.gz: (gzip data is truncated|truncated NIfTI file: 64×64×64 uint8 needs 262496 bytes, the file has 352)/,
  },
  {
    name: 'scl_slope 1e38 on float32 data: scaled in float64, no Inf',
    run: () => readNifti(floatVolume(16, () => undefined, { sclSlope: 1e38, sclInter: 0 })),
    check: (v) => {
      const vol = v as ReturnType<typeof readNifti>;
      if (!(vol.data instanceof Float64Array)) throw new Error(`data is ${vol.data.constructor.name}, expected Float64Array`);
      for (const x of vol.data) if (!Number.isFinite(x)) throw new Error('non-finite voxel');
      if (vol.warnings?.some((w) => /NaN|infinite/.test(w))) throw new Error('unexpected warning');
      const m = computeMapping(vol.data, { kind: 'minmax' });
      if (!(m.max > m.min)) throw new Error('blank window');
    },
  },
  {
    name: 'one NaN and one Inf voxel: a warning with the count; the window ignores them',
    run: () =>
      readNifti(
        floatVolume(16, (v) => {
          v[5] = NaN;
          v[77] = Infinity;
        }),
        { name: 'nan.nii' },
      ),
    check: (v) => {
      const vol = v as ReturnType<typeof readNifti>;
      if (!vol.warnings?.some((w) => /^2 of 4096 voxels are NaN or infinite/.test(w))) throw new Error(`warnings: ${vol.warnings}`);
      const m = computeMapping(vol.data, { kind: 'minmax' });
      if (m.max !== 999 || m.min !== 0) throw new Error(`window ${m.min}..${m.max} counts non-finite voxels`);
    },
  },
  {
    name: 'every voxel NaN',
    run: () => readNifti(floatVolume(8, (v) => v.fill(NaN)), { name: 'allnan.nii' }),
    error: /allnan\.nii: every voxel is NaN or infinite; nothing to segment/,
  },
  {
    name: 'every voxel infinite, scaled',
    run: () => readNifti(floatVolume(8, (v) => v.fill(Infinity), { sclSlope: 2, sclInter: 1 }), { name: 'inf.nii' }),
    error: /inf\.nii: every voxel is NaN or infinite after scaling \(scl_slope 2, scl_inter 1\)/,
  },
  {
    name: 'one -Inf voxel in an MR volume does not switch to the CT window',
    run: () => defaultWindow(readNifti(floatVolume(16, (v) => (v[3] = -Infinity)))),
    check: (w) => {
      if ((w as { name: string }).name !== 'mr') throw new Error(`window ${(w as { name: string }).name}`);
    },
  },
  {
    name: 'degenerate sform (a zero column): warning, qform used',
    run: () =>
      readNifti(floatVolume(8, () => undefined, { sformCode: 1, srow: [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], qformCode: 1, quatern: [0, 0, 0], pixdim: [1, 2, 2, 2, 1, 1, 1, 1] })),
    check: (v) => {
      const vol = v as ReturnType<typeof readNifti>;
      if (!vol.warnings?.some((w) => /the sform has a zero column .*ignored \(trying the qform\)/.test(w))) throw new Error(`warnings: ${vol.warnings}`);
      if (vol.affine[0][0] !== 2 || vol.affine[1][1] !== 2) throw new Error(`affine ${JSON.stringify(vol.affine)}`);
    },
  },
  {
    name: 'NaN sform and NaN qform: warnings, pixdim diagonal',
    run: () =>
      readNifti(floatVolume(8, () => undefined, { sformCode: 1, srow: [[NaN, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], qformCode: 1, quatern: [NaN, 0, 0], pixdim: [1, 3, 3, 3, 1, 1, 1, 1] })),
    check: (v) => {
      const vol = v as ReturnType<typeof readNifti>;
      const w = vol.warnings?.join('\n') ?? '';
      if (!/sform has NaN or infinite entries/.test(w) || !/qform has NaN or infinite quaternion/.test(w)) throw new Error(`warnings: ${w}`);
      if (vol.affine[0][0] !== 3 || vol.affine[2][2] !== 3) throw new Error(`affine ${JSON.stringify(vol.affine)}`);
    },
  },
  {
    name: 'collinear sform axes',
    run: () => readNifti(floatVolume(8, () => undefined, { sformCode: 1, srow: [[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]] })),
    check: (v) => {
      const w = (v as ReturnType<typeof readNifti>).warnings?.join('\n') ?? '';
      if (!/the sform is singular/.test(w)) throw new Error(`warnings: ${w}`);
    },
  },
  {
    name: '4D NIfTI without a frame names --frame',
    run: () => readNifti(buildNifti1({ dim: [4, 4, 4, 4, 3, 1, 1, 1], datatype: 2, bitpix: 8 }, new Uint8Array(192)), { name: 'bold.nii' }),
    error: /choose one with --frame N \(0\.\.2\)/,
  },
  {
    name: 'two 0.5 MB deflated DICOM files that inflate to 500 MB each: read as 512×512×2',
    run: () =>
      readDicomSeries([
        { name: 'a.dcm', data: deflatedSlice(0, 500) },
        { name: 'b.dcm', data: deflatedSlice(1, 500) },
      ]),
    check: (v) => {
      const vol = v as ReturnType<typeof readDicomSeries>;
      if (vol.dims.join() !== '512,512,2') throw new Error(`dims ${vol.dims}`);
      if (vol.data[1] !== 31 || vol.data[512 * 512 + 1] !== 32) throw new Error('wrong voxels');
    },
  },
  {
    name: 'deflated DICOM announcing 65535×65535 32-bit pixels',
    run: () => {
      const plain = writeSyntheticDicom({ rows: 4, columns: 4, position: [0, 0, 0], transferSyntax: '1.2.840.10008.1.2.1.99', pixels: new Int16Array(16) });
      // Patch Rows/Columns to 65535 and BitsAllocated to 32 in the (not yet deflated) data set.
      const v = new DataView(plain.buffer, plain.byteOffset);
      for (let p = 132; p + 12 <= plain.length; p += 2) {
        const [g, e] = [v.getUint16(p, true), v.getUint16(p + 2, true)];
        if (g === 0x0028 && [0x0010, 0x0011, 0x0100].includes(e) && plain[p + 4] === 0x55) v.setUint16(p + 8, e === 0x0100 ? 32 : 65535, true);
        if (g === 0x7fe0 && e === 0x0010 && plain[p + 4] === 0x4f) v.setUint32(p + 8, 0xfffffff0, true); // pixel data length
      }
      const metaEnd = 132 + 12 + v.getUint32(132 + 8, true);
      const out = new Uint8Array(metaEnd + 0);
      out.set(plain.subarray(0, metaEnd));
      const body = deflateBomb(plain.subarray(metaEnd), 64);
      const file = new Uint8Array(metaEnd + body.length);
      file.set(out);
      file.set(body, metaEnd);
      return readDicomSeries([{ name: 'huge.dcm', data: file }]);
    },
    error: /huge\.dcm: 65535×65535 pixels at 32 bits needs \d+ uncompressed bytes, more than the limit of 67108864/,
  },
  {
    name: 'deflated DICOM with no pixel data and 500 MB of zeros',
    run: () => {
      const plain = writeSyntheticDicom({ rows: 4, columns: 4, position: [0, 0, 0], transferSyntax: '1.2.840.10008.1.2.1.99' });
      const metaEnd = 132 + 12 + new DataView(plain.buffer, plain.byteOffset).getUint32(132 + 8, true);
      const body = deflateRawSync(plain.subarray(metaEnd));
      const file = new Uint8Array(metaEnd + body.length);
      file.set(plain.subarray(0, metaEnd));
      file.set(body, metaEnd);
      const bomb = deflateBomb(plain.subarray(metaEnd), 500);
      const file2 = new Uint8Array(metaEnd + bomb.length);
      file2.set(plain.subarray(0, metaEnd));
      file2.set(bomb, metaEnd);
      return readDicomSeries([
        { name: 'empty.dcm', data: file },
        { name: 'zeros.dcm', data: file2 },
      ]);
    },
    error: /no DICOM image could be read \(empty\.dcm: missing pixel data .*zeros\.dcm: (no pixel data within the first|cannot parse|truncated)/,
  },
  {
    name: 'DICOM folder with a stray non-image DICM file and a dangling symlink: read with warnings',
    run: () => {
      const t = tempDir();
      try {
        const dir = join(t.dir, 'series');
        mkdirSync(dir);
        for (let k = 0; k < 3; k++) {
          writeFileSync(join(dir, `s${k}.dcm`), writeSyntheticDicom({ rows: 8, columns: 8, position: [0, 0, 2 * k], instanceNumber: k + 1, pixels: new Int16Array(64).fill(k) }));
        }
        writeFileSync(join(dir, 'report.dcm'), writeSyntheticDicom({ rows: 8, columns: 8, position: [0, 0, 0] })); // no pixel data
        symlinkSync(join(dir, 'gone.dcm'), join(dir, 'link.dcm'));
        return readVolumeFile(dir);
      } finally {
        t.remove();
      }
    },
    check: (v) => {
      const vol = v as ReturnType<typeof readVolumeFile>;
      if (vol.dims[2] !== 3) throw new Error(`dims ${vol.dims}`);
      const w = vol.warnings?.join('\n') ?? '';
      if (!/skipped 2 files .*link\.dcm: broken symbolic link.*report\.dcm: missing pixel data/.test(w)) throw new Error(`warnings: ${w}`);
    },
  },
  {
    name: 'two series in one folder name --series',
    run: () =>
      readDicomSeries(
        [0, 1, 2, 3].map((k) => ({ name: `s${k}.dcm`, data: writeSyntheticDicom({ rows: 4, columns: 4, position: [0, 0, k], seriesUid: `1.2.${k % 2}`, pixels: new Int16Array(16) }) })),
      ),
    error: /belong to 2 different series .*pick one with --series <UID>/,
  },
];
