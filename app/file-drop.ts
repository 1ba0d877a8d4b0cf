// Turns what the user dropped or picked (files, a folder, several at once) into the app's inputs:
// SAM 2 weights (.safetensors), one NIfTI volume (.nii / .nii.gz), or the files of a DICOM series.

export interface PickedFile {
  file: File;
  /** Name of the top folder it came from, when a folder was dropped or picked. */
  folder?: string;
}

export interface ClassifiedInput {
  weights?: File;
  volume?: { files: File[]; name: string };
  /** Files that were neither (hidden files, stray text), for the status line. */
  ignored: string[];
}

const isHidden = (name: string) => name.startsWith('.') || name === 'Thumbs.db';
const isNifti = (name: string) => /\.nii(\.gz)?$/i.test(name);
const isWeights = (name: string) => /\.safetensors$/i.test(name);
/** Files that are never slices of a series. DICOM files often have no extension at all. */
const notDicom = (name: string) => /\.(txt|md|json|xml|html?|pdf|jpe?g|png|gif|zip|csv|py|ini|log)$/i.test(name) || name.toUpperCase() === 'DICOMDIR';

/** Files from a FileList of an <input type=file> (webkitRelativePath names the folder). */
export function filesFromInput(list: FileList): PickedFile[] {
  return [...list].map((file) => {
    const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath;
    return { file, folder: rel && rel.includes('/') ? rel.split('/')[0] : undefined };
  });
}

function readAllEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries returns batches (100 in Chromium) until it returns an empty one.
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, folder: string | undefined, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, folder });
  } else if (entry.isDirectory) {
    const children = await readAllEntries((entry as FileSystemDirectoryEntry).createReader());
    for (const c of children) await walk(c, folder ?? entry.name, out);
  }
}

/**
 * Files of a drop, folders walked recursively. The entries must be taken synchronously inside the
 * drop handler (the DataTransfer is emptied afterwards), which this function does before awaiting.
 */
export function filesFromDrop(dt: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = [];
  const plain: File[] = [];
  for (const item of [...dt.items]) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) plain.push(f);
    }
  }
  if (entries.length === 0 && plain.length === 0) plain.push(...dt.files);
  return (async () => {
    const out: PickedFile[] = plain.map((file) => ({ file }));
    for (const e of entries) await walk(e, undefined, out);
    return out;
  })();
}

export function classifyInput(picked: PickedFile[]): ClassifiedInput {
  const result: ClassifiedInput = { ignored: [] };
  const series: PickedFile[] = [];
  for (const p of picked) {
    const name = p.file.name;
    if (isHidden(name)) continue;
    if (isWeights(name)) {
      if (!result.weights) result.weights = p.file;
      else result.ignored.push(name);
    } else if (isNifti(name)) {
      if (!result.volume) result.volume = { files: [p.file], name };
      else result.ignored.push(name);
    } else if (notDicom(name)) {
      result.ignored.push(name);
    } else {
      series.push(p);
    }
  }
  if (!result.volume && series.length > 0) {
    result.volume = { files: series.map((p) => p.file), name: series[0].folder ?? (series.length === 1 ? series[0].file.name : 'DICOM series') };
  } else if (series.length > 0) {
    result.ignored.push(...series.map((p) => p.file.name));
  }
  return result;
}
