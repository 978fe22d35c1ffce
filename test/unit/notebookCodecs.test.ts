/**
 * The notebook renderer draws frames of every WebAssembly codec (issue 15): JPEG baseline
 * (libjpeg-turbo), JPEG-LS (CharLS), JPEG 2000 (OpenJPEG) and HTJ2K (OpenJPH), from real
 * files' frames carried in the frame output the extension writes (src/notebook/frameOutput.ts)
 * and read back by the renderer's reader, drawn by its frameToRgba with the same codec
 * scripts and wasm loaded in Node. Lossless frames give the very RGBA of the uncompressed
 * MR_small; the JPEG baseline frame is held against the RGB original. And the renderer finds
 * the codec files where the build puts them, beside its own bundle.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { before, describe, it } from 'node:test';
import { readDataSet } from '../../src/dicom/part10';
import { CODEC_FILES } from '../../src/imaging/decode/codecs';
import { encodeFrameOutput } from '../../src/notebook/frameOutput';
import { fileFrame } from '../../src/imaging/header/fileFrames';
import { imageInfoFromDataSet } from '../../src/imaging/header/imageInfo';
import { codecUrls } from '../../webview/notebook/codecs';
import { frameToRgba, type DrawnFrame } from '../../webview/notebook/drawFrame';
import { decodeFrameOutput } from '../../webview/notebook/frameOutput';
import type { CodecName } from '../../webview/protocol';
import { encodeHtj2k, nodeDecoderDeps } from '../support/nodeCodecs';
import { ensureSampleFiles, type SampleCatalog, type SampleName } from '../support/sampleFiles';

const deps = nodeDecoderDeps();
let catalog: SampleCatalog;

/** A sample's first frame as the extension's frame output, then as the renderer reads it. */
async function frameOutputOf(name: SampleName, mediaType: string, bytes?: Uint8Array) {
  const dataSet = readDataSet(await readFile(catalog.files[name].path));
  const info = imageInfoFromDataSet(dataSet);
  const frame = bytes ?? fileFrame(dataSet, info, 1);
  const written = encodeFrameOutput(
    { info, mediaType, transferSyntaxUid: info.transferSyntaxUid, frameNumber: 1 },
    frame,
  );
  return { output: decodeFrameOutput(written), info, native: () => fileFrame(dataSet, info, 1) };
}

async function drawSample(name: SampleName, mediaType: string): Promise<DrawnFrame> {
  return frameToRgba((await frameOutputOf(name, mediaType)).output, deps);
}

before(async () => {
  catalog = await ensureSampleFiles();
});

describe('notebook renderer: frames of the WebAssembly codecs', () => {
  it('JPEG-LS lossless (CharLS): the RGBA of the uncompressed MR_small', async () => {
    const drawn = await drawSample('jpegLsLossless', 'image/jls');
    assert.equal(drawn.decoder, 'CharLS');
    assert.deepEqual(drawn.rgba, (await drawSample('mrSmall', 'application/octet-stream')).rgba);
  });

  it('JPEG 2000 lossless (OpenJPEG): the RGBA of the uncompressed MR_small', async () => {
    const drawn = await drawSample('j2kLossless', 'image/jp2');
    assert.equal(drawn.decoder, 'OpenJPEG');
    assert.deepEqual(drawn.rgba, (await drawSample('mrSmall', 'application/octet-stream')).rgba);
  });

  it('HTJ2K lossless (OpenJPH): the RGBA of the uncompressed MR_small', async () => {
    const native = await frameOutputOf('mrSmall', 'application/octet-stream');
    const encoded = await encodeHtj2k(native.native(), native.info);
    const htj2k = decodeFrameOutput(
      encodeFrameOutput(
        {
          info: native.info,
          mediaType: 'image/jphc',
          transferSyntaxUid: '1.2.840.10008.1.2.4.201',
          frameNumber: 1,
        },
        encoded,
      ),
    );
    const drawn = await frameToRgba(htj2k, deps);
    assert.equal(drawn.decoder, 'OpenJPH');
    assert.deepEqual(drawn.rgba, (await frameToRgba(native.output, deps)).rgba);
  });

  it('JPEG baseline (libjpeg-turbo): close to the RGB original, 100×100', async () => {
    const drawn = await drawSample('jpegBaselineRgb', 'image/jpeg');
    const original = await drawSample('rle8BitRgb', 'image/dicom-rle');
    assert.equal(drawn.decoder, 'libjpeg-turbo');
    assert.equal(drawn.columns, 100);
    assert.equal(drawn.rows, 100);
    let sum = 0;
    for (let i = 0; i < drawn.rgba.length; i++) sum += Math.abs(drawn.rgba[i] - original.rgba[i]);
    // Lossy: the mean difference per channel stays small (decodeFrames.test.ts holds the
    // decoder itself to the original band by band).
    const mean = sum / drawn.rgba.length;
    assert.ok(mean < 4, `mean difference ${mean.toFixed(2)} per channel`);
  });

  it('finds each codec beside its own bundle: dist/webview/notebookRenderer.js → dist/codecs/', () => {
    const root = process.cwd();
    const renderer = pathToFileURL(join(root, 'dist', 'webview', 'notebookRenderer.js')).href;
    for (const name of Object.keys(CODEC_FILES) as CodecName[]) {
      const files = CODEC_FILES[name];
      const urls = codecUrls(name, renderer);
      assert.equal(fileURLToPath(urls.script), join(root, 'dist', 'codecs', files.script));
      assert.equal(fileURLToPath(urls.wasm), join(root, 'dist', 'codecs', files.wasm));
      // What scripts/build.mjs copies there.
      assert.ok(existsSync(join(root, 'node_modules', files.packageDir, files.wasm)), files.wasm);
    }
  });
});
