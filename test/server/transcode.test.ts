/**
 * Retrieve without a transfer syntax, as the Azure DICOM service answers it: instances stored
 * Implicit VR or Big Endian come back converted to Explicit VR Little Endian (the PS3.18
 * §8.7.3.5.2 default), `*` returns them as stored, compressed ones the decoders cannot read are
 * a 406 that says how to ask (decodable ones: decodedTranscode.test.ts), and the older frame
 * media types (`image/x-dicom-rle`, `image/x-jls`) are accepted.
 * Driven by the dcmjs `dicomweb-client` (npm), whose defaults name no transfer syntax, and by
 * raw HTTP, against the real local server over real sample files.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { api } from 'dicomweb-client';
import type { LocalServer } from '../../src/server';
import { readDataSet, transferSyntaxOf } from '../../src/dicom/part10';
import { CONVERTIBLE_TO_EXPLICIT_LE, toExplicitVrLittleEndian } from '../../src/dicom/transcode';
import { TransferSyntax } from '../../src/dicom/uids';
import { parseMultipart } from '../../src/mime/multipart';
import { ensureSampleFiles, type SampleCatalog, type SampleFile } from '../support/sampleFiles';
import { installNodeXhr } from '../support/nodeXhr';
import { rawRequest, startTestServer, tempDir } from './helpers';

const ELE = TransferSyntax.ExplicitVRLittleEndian;

let catalog: SampleCatalog;
const servers: LocalServer[] = [];
before(async () => {
  installNodeXhr();
  catalog = await ensureSampleFiles();
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A server holding one sample (MR_small's copies share their UIDs, so one server each). */
async function serve(sample: SampleFile, limits = {}): Promise<LocalServer> {
  const dir = tempDir('transcode');
  await copyFile(sample.path, join(dir, `${sample.name}.dcm`));
  const server = await startTestServer({ dir, limits });
  servers.push(server);
  return server;
}

function instancePath(sample: SampleFile): string {
  const dataSet = readDataSet(readFileSync(sample.path));
  const study = dataSet.string('x0020000d')!;
  const series = dataSet.string('x0020000e')!;
  return `/v2/studies/${study}/series/${series}/instances/${sample.sopInstanceUid}`;
}

function uidsOf(sample: SampleFile): {
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
} {
  const [, , , study, , series, , sop] = instancePath(sample).split('/');
  return { studyInstanceUID: study!, seriesInstanceUID: series!, sopInstanceUID: sop! };
}

/** The parts of a multipart answer, read with the project's parser. */
async function partsOf(response: {
  headers: Record<string, unknown>;
  body: Buffer;
}): Promise<Array<{ contentType: string | undefined; body: Buffer }>> {
  const out: Array<{ contentType: string | undefined; body: Buffer }> = [];
  const source = (async function* () {
    yield new Uint8Array(response.body);
  })();
  for await (const part of parseMultipart(source, String(response.headers['content-type']))) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of part.body) chunks.push(chunk);
    out.push({ contentType: part.contentType, body: Buffer.concat(chunks) });
  }
  return out;
}

/**
 * The calls used here, typed as the client documents them (its generated .d.ts makes every
 * JSDoc option required).
 */
interface DcmjsClient {
  retrieveInstance(options: object): Promise<ArrayBuffer>;
  retrieveInstanceFrames(options: object): Promise<ArrayBuffer[]>;
}

function dcmjsClient(server: LocalServer): DcmjsClient {
  type Options = ConstructorParameters<typeof api.DICOMwebClient>[0];
  const client = new api.DICOMwebClient({ url: `${server.url}/v2` } as Options);
  return client as unknown as DcmjsClient;
}

function convertible(): SampleFile[] {
  return [...CONVERTIBLE_TO_EXPLICIT_LE].flatMap((uid) => catalog.byTransferSyntax(uid));
}

describe('retrieve of Implicit VR and Big Endian instances (converted, as Azure does)', () => {
  it('dicomweb-client’s default retrieveInstance gets Explicit VR Little Endian, equal to the converted file', async () => {
    const samples = convertible();
    assert.ok(samples.length >= 5);
    for (const sample of samples) {
      const server = await serve(sample);
      const client = dcmjsClient(server);
      const got = new Uint8Array(await client.retrieveInstance(uidsOf(sample)));
      assert.equal(transferSyntaxOf(readDataSet(got)), ELE, sample.name);
      const expected = toExplicitVrLittleEndian(await readFile(sample.path));
      assert.ok(Buffer.from(got).equals(Buffer.from(expected)), `${sample.name}: bytes differ`);
    }
  });

  it('answers no Accept, */*, no transfer syntax, Explicit VR LE and * as PS3.18 §8.7.3.5.2 and Azure say', async () => {
    for (const sample of convertible()) {
      const server = await serve(sample);
      const stored = await readFile(sample.path);
      const path = instancePath(sample);
      const cases: Array<[string | undefined, string, Uint8Array]> = [
        // Azure v2: `*/*` (and so no Accept) means transfer-syntax=*, the file as stored.
        [undefined, sample.transferSyntaxUid, stored],
        ['*/*', sample.transferSyntaxUid, stored],
        ['multipart/related; type="application/dicom"', ELE, toExplicitVrLittleEndian(stored)],
        [
          `multipart/related; type="application/dicom"; transfer-syntax=${ELE}`,
          ELE,
          toExplicitVrLittleEndian(stored),
        ],
        [
          'multipart/related; type="application/dicom"; transfer-syntax=*',
          sample.transferSyntaxUid,
          stored,
        ],
        [
          `multipart/related; type="application/dicom"; transfer-syntax=${sample.transferSyntaxUid}`,
          sample.transferSyntaxUid,
          stored,
        ],
      ];
      for (const [accept, syntax, bytes] of cases) {
        const response = await rawRequest(server, 'GET', path, accept ? { accept } : {});
        assert.equal(
          response.status,
          200,
          `${sample.name} ${accept}: ${response.text.slice(0, 200)}`,
        );
        const [part] = await partsOf(response);
        assert.equal(part!.contentType, `application/dicom; transfer-syntax=${syntax}`);
        assert.ok(Buffer.from(part!.body).equals(Buffer.from(bytes)), `${sample.name} ${accept}`);
      }
      // The single-part form Azure has (Accept: application/dicom), with its length.
      const single = await rawRequest(server, 'GET', path, { accept: 'application/dicom' });
      assert.equal(single.status, 200);
      assert.equal(single.headers['content-type'], `application/dicom; transfer-syntax=${ELE}`);
      assert.equal(Number(single.headers['content-length']), single.body.length);
      assert.ok(single.body.equals(Buffer.from(toExplicitVrLittleEndian(stored))));
    }
  });

  it('an instance stored as Explicit VR LE is served as stored when the Accept names no transfer syntax (dicomweb-client’s retrieveInstance)', async () => {
    // Found by the notebook's executed JavaScript snippets: this answered 406 ("converts only
    // Implicit VR and Big Endian") although no transfer syntax means Explicit VR LE.
    const sample = catalog.files.mrSmall;
    assert.equal(sample.transferSyntaxUid, ELE);
    const server = await serve(sample);
    const stored = await readFile(sample.path);
    const path = instancePath(sample);
    for (const accept of ['multipart/related; type="application/dicom"', 'application/dicom']) {
      const response = await rawRequest(server, 'GET', path, { accept });
      assert.equal(response.status, 200, `${accept}: ${response.text.slice(0, 200)}`);
      const body =
        accept === 'application/dicom' ? response.body : (await partsOf(response))[0]!.body;
      assert.ok(Buffer.from(body).equals(stored), accept);
    }
    const retrieved = await dcmjsClient(server).retrieveInstance(uidsOf(sample));
    assert.ok(Buffer.from(retrieved).equals(stored));
  });

  it('dicomweb-client’s default frames of them are native little endian, equal to the Explicit LE twin’s', async () => {
    const twins = convertible().filter((s) => s.reference);
    for (const sample of twins) {
      const server = await serve(sample);
      const client = dcmjsClient(server);
      const [frame] = await client.retrieveInstanceFrames({ ...uidsOf(sample), frameNumbers: [1] });
      const twin = readDataSet(await readFile(catalog.files[sample.reference!].path));
      const pixels = twin.elements['x7fe00010']!;
      const expected = twin.byteArray.subarray(
        pixels.dataOffset,
        pixels.dataOffset + pixels.length,
      );
      assert.ok(Buffer.from(frame as ArrayBuffer).equals(Buffer.from(expected)), sample.name);
    }
  });

  it('stops converting above maxTranscodeBytes: 406 naming the limit; at the limit, 200', async () => {
    const sample = catalog.files.mrSmallImplicit;
    const size = (await readFile(sample.path)).length;
    const over = await serve(sample, { maxTranscodeBytes: size - 1 });
    const defaultSyntax = { accept: 'multipart/related; type="application/dicom"' };
    const refused = await rawRequest(over, 'GET', instancePath(sample), defaultSyntax);
    assert.equal(refused.status, 406);
    assert.match(refused.text, new RegExp(`${size} bytes\\) is over the ${size - 1}-byte limit`));
    const at = await serve(sample, { maxTranscodeBytes: size });
    assert.equal((await rawRequest(at, 'GET', instancePath(sample), defaultSyntax)).status, 200);
  });
});

describe('retrieve of compressed instances the decoders cannot read', () => {
  it('is a 406 naming the stored transfer syntax and the Accept that gets it, which then works', async () => {
    // Decodable ones are decoded (decodedTranscode.test.ts); 12-bit lossy JPEG has no decoder.
    const compressed = catalog.byTransferSyntax(TransferSyntax.JPEGExtended12Bit);
    assert.ok(compressed.length >= 1);
    for (const sample of compressed) {
      const server = await serve(sample);
      const path = instancePath(sample);
      const refused = await rawRequest(server, 'GET', path, {
        accept: 'multipart/related; type="application/dicom"',
      });
      assert.equal(refused.status, 406, sample.name);
      const message = (refused.json() as { message: string }).message;
      assert.ok(message.includes(sample.transferSyntaxUid), message);
      const accept = /Accept: (.*)$/.exec(message)![1]!;
      const asked = await rawRequest(server, 'GET', path, { accept });
      assert.equal(asked.status, 200, `${sample.name}: ${accept}`);
      const [part] = await partsOf(asked);
      assert.ok(Buffer.from(part!.body).equals(await readFile(sample.path)));
      const frame = await rawRequest(server, 'GET', `${path}/frames/1`, {
        accept: 'multipart/related; type="application/octet-stream"',
      });
      assert.equal(frame.status, 406, frame.text);
      assert.match(
        frame.text,
        /could not be decoded.*transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.51/,
      );
    }
  });

  it('frames: octet-stream gets them decoded; the older names image/x-dicom-rle and image/x-jls are accepted', async () => {
    const rle = catalog.byTransferSyntax(TransferSyntax.RLELossless)[0]!;
    const jls = catalog.byTransferSyntax(TransferSyntax.JPEGLSLossless)[0]!;
    for (const [sample, legacy] of [
      [rle, 'image/x-dicom-rle'],
      [jls, 'image/x-jls'],
    ] as const) {
      const server = await serve(sample);
      const path = `${instancePath(sample)}/frames/1`;
      const decoded = await rawRequest(server, 'GET', path, {
        accept: 'multipart/related; type="application/octet-stream"',
      });
      assert.equal(decoded.status, 200, decoded.text.slice(0, 200));
      assert.match(
        decoded.text,
        /Content-Type: application\/octet-stream; transfer-syntax=1\.2\.840\.10008\.1\.2\.1\r/,
      );
      // Azure v2: `*/*` means transfer-syntax=*, the frames as stored.
      const any = await rawRequest(server, 'GET', path);
      assert.equal(any.status, 200, any.text.slice(0, 200));
      assert.match(String(any.headers['content-type']), /^multipart\/related/);
      const syntax = sample.transferSyntaxUid;
      for (const accept of [
        `multipart/related; type="${legacy}"; transfer-syntax=${syntax}`,
        `multipart/related; type="${legacy}"`,
        `${legacy}; transfer-syntax=${syntax}`,
      ]) {
        const response = await rawRequest(server, 'GET', path, { accept });
        assert.equal(response.status, 200, `${accept}: ${response.text.slice(0, 200)}`);
      }
      // The real client sends the legacy name for RLE.
      const client = dcmjsClient(server);
      const frames = await client.retrieveInstanceFrames({
        ...uidsOf(sample),
        frameNumbers: [1],
        mediaTypes: [{ mediaType: legacy, transferSyntaxUID: syntax }],
      });
      assert.equal(frames.length, 1);
      assert.ok((frames[0] as ArrayBuffer).byteLength > 0);
    }
  });
});
