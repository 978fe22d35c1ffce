/**
 * The extension side of the frame preview inside the real extension host, against the real
 * Orthanc of `npm test` (Debian's Orthanc 1.10 with its DICOMweb plugin, no GDCM):
 *
 * - DicomWebFrameSource's fallback chain (`transfer-syntax=*` → Explicit VR Little Endian →
 *   `/rendered`) for a native instance, a JPEG 2000 instance Orthanc cannot transcode, a
 *   multi-frame instance, an instance without pixel data (SR) and a missing one;
 * - PreviewPanel talking to the real webview: the messages that cross the boundary.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DicomWebClient } from '../../src/dicomweb';
import { DicomWebHttpError } from '../../src/dicomweb/transport/errors';
import { getString } from '../../src/dicom/json';
import {
  DicomWebFrameSource,
  EXPLICIT_VR_LITTLE_ENDIAN,
  type InstanceTarget,
} from '../../src/preview/frameSource';
import { NotAnImageError } from '../../src/imaging/header/imageInfo';
import { clearOrthanc } from '../support/orthanc';
import { ensureSampleFiles, type SampleFile } from '../support/sampleFiles';
import { SEED, SEED_GEOMETRY, drawShape, writeSeedFiles } from '../support/seedData';
import { decodePng, rgbAt } from '../ui/helpers/png';
import { activateExtension, executeCommand, waitFor } from './helpers';

const JPEG_2000 = '1.2.840.10008.1.2.4.91';
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** What the tests read of the extension's API (src/extension.ts, src/preview/). */
interface TreeNode {
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  connection?: { id: string };
}
interface Api {
  services: {
    tree: { getChildren(node?: TreeNode): Promise<TreeNode[]> };
    previews: { panels: Map<string, PanelUnderTest> };
  };
}
/** A PreviewPanel, seen through the two methods every message passes. */
interface PanelUnderTest {
  panel: vscode.WebviewPanel;
  post(message: Message): void;
  onMessage(message: unknown): void;
}
type Message = { type: string; [key: string]: unknown };

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through npm test`);
  return value;
};

describe('Preview against Orthanc', function () {
  this.timeout(60_000);
  let client: DicomWebClient;
  let j2k: SampleFile;
  let sr: SampleFile;
  let multiFrame: SampleFile;
  const targets = new Map<string, InstanceTarget>();
  const triangle: InstanceTarget = {
    studyInstanceUid: SEED.studyInstanceUid,
    seriesInstanceUid: SEED.redTriangle.seriesInstanceUid,
    sopInstanceUid: SEED.redTriangle.sopInstanceUid,
  };

  before(async () => {
    const catalog = await ensureSampleFiles();
    j2k = catalog.files.daikonJ2k;
    sr = catalog.files.structuredReport;
    multiFrame = catalog.files.daikonExplicitMultiFrame;
    await clearOrthanc({ restUrl: env('DICOMWEB_TEST_REST_URL') });
    client = new DicomWebClient({
      baseUrl: env('DICOMWEB_TEST_URL'),
      serverKind: 'orthanc',
      serverRoot: env('DICOMWEB_TEST_REST_URL'),
    });
    const seedDir = mkdtempSync(join(tmpdir(), 'dicomweb-it-preview-'));
    try {
      const files = [...(await writeSeedFiles(seedDir)), j2k.path, sr.path, multiFrame.path];
      const summary = await client.storeInstances(files);
      assert.equal(summary.stored, files.length, JSON.stringify(summary.outcomes));
    } finally {
      rmSync(seedDir, { recursive: true, force: true });
    }
    for (const sample of [j2k, sr, multiFrame]) {
      const [instance] = (
        await client.search('instances', {}, { match: { SOPInstanceUID: sample.sopInstanceUid } })
      ).items;
      assert.ok(instance, `Orthanc lists ${sample.fileName}`);
      targets.set(sample.sopInstanceUid, {
        studyInstanceUid: getString(instance, '0020000D') ?? '',
        seriesInstanceUid: getString(instance, '0020000E') ?? '',
        sopInstanceUid: sample.sopInstanceUid,
      });
    }
  });

  after(async () => {
    await client?.close();
  });

  /** A frame source with its fallback log captured. */
  function source(target: InstanceTarget): { frames: DicomWebFrameSource; log: string[] } {
    const log: string[] = [];
    return { frames: new DicomWebFrameSource(client, target, (line) => log.push(line)), log };
  }

  describe('DicomWebFrameSource: the fallback chain', () => {
    it("native: the header comes from the metadata, frame 1 as stored with exactly the triangle's pixels, nothing falls back", async () => {
      const { frames, log } = source(triangle);
      const { info, attributes } = await frames.open();
      assert.equal(info.rows, 64);
      assert.equal(info.columns, 64);
      assert.equal(info.samplesPerPixel, 3);
      assert.equal(info.photometricInterpretation, 'RGB');
      assert.equal(info.bitsAllocated, 8);
      assert.equal(info.numberOfFrames, 1);
      assert.equal(attributes.patientName, 'Test, Shapes');
      assert.equal(attributes.studyDescription, SEED.studyDescription);
      assert.equal(attributes.instanceNumber, '2');
      assert.equal(frames.label, env('DICOMWEB_TEST_URL'));

      const frame = await frames.frame(1);
      assert.equal(frame.path, 'stored');
      assert.equal(frame.mediaType, 'application/octet-stream');
      assert.equal(frame.transferSyntaxUid, EXPLICIT_VR_LITTLE_ENDIAN);
      assert.ok(
        Buffer.from(frame.bytes).equals(Buffer.from(drawShape('redTriangle'))),
        "the frame's bytes are the drawn triangle, pixel for pixel",
      );
      assert.deepEqual(log, [] as string[]);
    });

    it('native: the transcoded path gives the same bytes, and the path that worked is where the next frame starts', async () => {
      const { frames, log } = source(triangle);
      const transcoded = await frames.frame(1, 'transcoded');
      assert.equal(transcoded.path, 'transcoded');
      assert.equal(transcoded.transferSyntaxUid, EXPLICIT_VR_LITTLE_ENDIAN);
      assert.ok(Buffer.from(transcoded.bytes).equals(Buffer.from(drawShape('redTriangle'))));
      // A request from the start of the chain now begins at the path that last worked.
      const next = await frames.frame(1);
      assert.equal(next.path, 'transcoded');
      assert.deepEqual(log, [] as string[]);
    });

    it('native: /rendered is the last resort, a PNG of the same picture', async () => {
      const { frames } = source(triangle);
      const rendered = await frames.frame(1, 'rendered');
      assert.equal(rendered.path, 'rendered');
      assert.equal(rendered.mediaType, 'image/png');
      assert.equal(rendered.transferSyntaxUid, undefined);
      assert.deepEqual([...rendered.bytes.subarray(0, 8)], PNG_SIGNATURE);
      const png = decodePng(rendered.bytes);
      assert.equal(png.width, 64);
      assert.equal(png.height, 64);
      const { interior, exterior } = SEED_GEOMETRY.redTriangle;
      assert.deepEqual(rgbAt(png, interior.x, interior.y), [255, 0, 0]);
      for (const point of exterior)
        assert.deepEqual(
          rgbAt(png, point.x, point.y),
          [0, 0, 0],
          `(${point.x},${point.y}) is black`,
        );
    });

    it('JPEG 2000: transfer-syntax=* gives the codestream as stored; Orthanc without GDCM can neither transcode (500) nor render (400) it', async () => {
      const target = targets.get(j2k.sopInstanceUid)!;
      const { frames, log } = source(target);
      const { info } = await frames.open();
      assert.equal(info.rows, 512);
      assert.equal(info.columns, 512);
      assert.equal(info.bitsAllocated, 16);

      const stored = await frames.frame(1);
      assert.equal(stored.path, 'stored');
      assert.equal(stored.mediaType, 'image/jp2');
      assert.equal(stored.transferSyntaxUid, JPEG_2000);
      assert.ok(
        isJpeg2000(stored.bytes),
        `a JPEG 2000 codestream or JP2 file (starts ${Buffer.from(stored.bytes.subarray(0, 8)).toString('hex')})`,
      );
      assert.deepEqual(log, [] as string[]);

      // What the webview asks when it cannot decode a stored frame: the rest of the chain.
      // Here every remaining path fails, so the stored bytes (decoded in the webview) are
      // the only way to see this image on this server.
      const error = await frames.frame(1, 'transcoded').then(
        () => assert.fail('Orthanc 1.10 without GDCM was expected to refuse transcoding JPEG 2000'),
        (reason: unknown) => reason,
      );
      assert.deepEqual(
        log.map((line) => line.replace(/ \(.*\)/, '')),
        [
          'frame 1: transcoded failed, trying the next path',
          'frame 1: rendered failed, trying the next path',
        ],
      );
      assert.match(log[0], /\(HTTP 500\)/);
      assert.match(log[1], /\(HTTP 400\)/);
      assert.ok(
        error instanceof DicomWebHttpError,
        `the caller gets the last path's HTTP error: ${String(error)}`,
      );
      assert.equal(error.status, 400);
      assert.match(error.message, /\/frames\/1\/rendered/);

      // Nothing worked, so nothing is remembered: the next frame still starts as stored.
      assert.equal((await frames.frame(1)).path, 'stored');
    });

    it('multi-frame: frames are fetched one by one, frame 2 differs from frame 1, a frame past the end is an error', async () => {
      const { frames, log } = source(targets.get(multiFrame.sopInstanceUid)!);
      const { info } = await frames.open();
      assert.equal(info.numberOfFrames, 16);
      const first = await frames.frame(1);
      const second = await frames.frame(2);
      const last = await frames.frame(16);
      for (const frame of [first, second, last]) {
        assert.equal(frame.path, 'stored');
        assert.equal(frame.bytes.length, 256 * 256);
      }
      assert.ok(
        !Buffer.from(first.bytes).equals(Buffer.from(second.bytes)),
        'frame 2 is not frame 1',
      );
      assert.ok(
        !Buffer.from(second.bytes).equals(Buffer.from(last.bytes)),
        'frame 16 is not frame 2',
      );
      assert.deepEqual(log, [] as string[]);
      await assert.rejects(
        frames.frame(17),
        (error: unknown) => error instanceof DicomWebHttpError,
      );
      assert.deepEqual(
        log.map((line) => line.split(' failed')[0]),
        ['frame 17: stored', 'frame 17: transcoded', 'frame 17: rendered'],
        'each path was tried and logged',
      );
    });

    it('an instance without pixel data (SR): open() says there is no image, every frame path fails and the error reaches the caller', async () => {
      const { frames, log } = source(targets.get(sr.sopInstanceUid)!);
      await assert.rejects(frames.open(), (error: unknown) => {
        assert.ok(error instanceof NotAnImageError, String(error));
        assert.match(error.message, /no image to show/);
        assert.match(error.message, /Comprehensive SR/);
        return true;
      });
      await assert.rejects(frames.frame(1), (error: unknown) => error instanceof DicomWebHttpError);
      assert.deepEqual(
        log.map((line) => line.split(' failed')[0]),
        ['frame 1: stored', 'frame 1: transcoded', 'frame 1: rendered'],
      );
      for (const line of log) assert.match(line, /\(HTTP [45]\d\d\)/);
    });

    it('a missing instance: the metadata request fails with 404', async () => {
      const { frames } = source({ ...triangle, sopInstanceUid: '1.2.826.0.1.3680043.8.498.1' });
      await assert.rejects(
        frames.open(),
        (error: unknown) => error instanceof DicomWebHttpError && error.status === 404,
      );
    });
  });

  describe('PreviewPanel and the real webview', () => {
    let api: Api;
    const connectionId = 'preview-it';

    before(async () => {
      api = (await activateExtension()) as Api;
      await vscode.workspace.getConfiguration('dicomweb').update(
        'servers',
        [
          {
            id: connectionId,
            name: 'Orthanc (preview)',
            url: env('DICOMWEB_TEST_URL'),
            kind: 'orthanc',
            serverRoot: env('DICOMWEB_TEST_REST_URL'),
          },
        ],
        vscode.ConfigurationTarget.Global,
      );
      await waitFor(
        async () =>
          (await api.services.tree.getChildren()).some(
            (root) => root.connection?.id === connectionId,
          ),
        { description: 'the connection in the tree' },
      );
    });

    afterEach(async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    after(async () => {
      await vscode.workspace
        .getConfiguration('dicomweb')
        .update('servers', [], vscode.ConfigurationTarget.Global);
    });

    /** The tree's node of an instance (server → study → series → instance). */
    async function instanceNode(target: InstanceTarget): Promise<TreeNode> {
      const server = (await api.services.tree.getChildren()).find(
        (root) => root.connection?.id === connectionId,
      );
      assert.ok(server, 'the connection is a root');
      const study = (await api.services.tree.getChildren(server)).find(
        (node) => node.studyInstanceUid === target.studyInstanceUid,
      );
      assert.ok(study, `the tree lists study ${target.studyInstanceUid}`);
      const series = (await api.services.tree.getChildren(study)).find(
        (node) => node.seriesInstanceUid === target.seriesInstanceUid,
      );
      assert.ok(series, `the tree lists series ${target.seriesInstanceUid}`);
      const instance = (await api.services.tree.getChildren(series)).find(
        (node) => node.sopInstanceUid === target.sopInstanceUid,
      );
      assert.ok(instance, `the tree lists instance ${target.sopInstanceUid}`);
      return instance;
    }

    /**
     * Runs "Preview" on an instance node and records every message between its panel and
     * the webview. The recorder is in place before the webview can say `ready` (the page
     * loads in the browser while the command returns).
     */
    async function preview(
      target: InstanceTarget,
    ): Promise<{ sent: Message[]; received: Message[]; panel: PanelUnderTest }> {
      await executeCommand('dicomweb.instance.preview', await instanceNode(target));
      const entry = [...api.services.previews.panels.entries()].find(([key]) =>
        key.endsWith(`/instances/${target.sopInstanceUid}`),
      );
      assert.ok(entry, 'the preview manager opened a panel for the instance');
      const panel = entry[1];
      const sent: Message[] = [];
      const received: Message[] = [];
      const post = panel.post.bind(panel);
      const onMessage = panel.onMessage.bind(panel);
      panel.post = (message) => {
        sent.push(message);
        post(message);
      };
      panel.onMessage = (message) => {
        received.push(message as Message);
        onMessage(message);
      };
      return { sent, received, panel };
    }

    const ofType = (messages: Message[], type: string) =>
      messages.filter((message) => message.type === type);

    it('the red triangle: ready → init → frame 1 as stored, sent as a plain Uint8Array; the webview draws it from those bytes', async () => {
      const { sent, received, panel } = await preview(triangle);
      assert.equal(panel.panel.viewType, 'dicomweb.preview');
      assert.match(panel.panel.title, /instance 2/);
      const frame = await waitFor(() => ofType(sent, 'frame')[0], {
        timeoutMs: 20_000,
        description: 'frame 1 sent to the webview',
      });
      assert.equal(ofType(received, 'ready').length, 1);
      assert.equal(ofType(received, 'ready')[0].protocolVersion, 1);
      const [init] = ofType(sent, 'init');
      assert.ok(init, 'init before the frame');
      assert.equal(sent.indexOf(init) < sent.indexOf(frame), true);
      assert.equal(init.sourceLabel, env('DICOMWEB_TEST_URL'));
      assert.equal((init.info as { rows: number }).rows, 64);
      assert.equal(frame.frameNumber, 1);
      assert.equal(frame.path, 'stored');
      assert.equal(frame.transferSyntaxUid, EXPLICIT_VR_LITTLE_ENDIAN);
      // VS Code passes only plain typed arrays to the webview as binary: a Buffer would
      // arrive as { type: 'Buffer', data: [...] } and decode as nothing.
      const bytes = frame.bytes as Uint8Array;
      assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
      assert.equal(bytes.byteLength, 64 * 64 * 3);
      assert.equal(
        bytes.buffer.byteLength,
        bytes.byteLength,
        'the bytes own their buffer (no pooled neighbours go along)',
      );
      // The webview drew it from the stored bytes: no fallback, no warning.
      const shown = await waitFor(() => ofType(received, 'rendered')[0], {
        timeoutMs: 20_000,
        description: 'the webview reporting its first drawn frame',
      });
      assert.equal(shown.frameNumber, 1);
      assert.equal(shown.path, 'stored');
      assert.deepEqual(
        ofType(received, 'requestFrame').map((message) => [message.frameNumber, message.from]),
        [[1, undefined]],
      );
      assert.deepEqual(ofType(received, 'log'), [] as Message[]);
    });

    it('JPEG 2000: the frame goes as stored (image/jp2) and the webview asks for the OpenJPEG codec and draws it, no other path', async () => {
      const { sent, received } = await preview(targets.get(j2k.sopInstanceUid)!);
      const frame = await waitFor(() => ofType(sent, 'frame')[0], {
        timeoutMs: 20_000,
        description: 'frame 1 sent to the webview',
      });
      assert.equal(frame.path, 'stored');
      assert.equal(frame.mediaType, 'image/jp2');
      assert.equal(frame.transferSyntaxUid, JPEG_2000);
      const request = await waitFor(() => ofType(received, 'requestCodec')[0], {
        timeoutMs: 20_000,
        description: 'the webview asking for a codec',
      });
      assert.equal(request.name, 'openjpeg');
      const codec = await waitFor(() => ofType(sent, 'codec')[0], {
        description: 'the codec sent',
      });
      const wasm = codec.wasm as Uint8Array;
      assert.equal(Object.getPrototypeOf(wasm), Uint8Array.prototype);
      assert.deepEqual(
        [...wasm.subarray(0, 4)],
        [0x00, 0x61, 0x73, 0x6d],
        'a WebAssembly module (\\0asm)',
      );
      const shown = await waitFor(() => ofType(received, 'rendered')[0], {
        timeoutMs: 20_000,
        description: 'the webview reporting its first drawn frame',
      });
      assert.equal(shown.path, 'stored', 'decoded in the webview, no fallback');
      assert.deepEqual(
        ofType(received, 'requestFrame').map((message) => [message.frameNumber, message.from]),
        [[1, undefined]],
      );
      assert.deepEqual(ofType(received, 'log'), [] as Message[]);
    });

    it('an SR instance: one fatal message that says there is no image, and no frame request answered', async () => {
      const { sent, received } = await preview(targets.get(sr.sopInstanceUid)!);
      const fatal = await waitFor(() => ofType(sent, 'fatal')[0], {
        timeoutMs: 20_000,
        description: 'the fatal message',
      });
      assert.match(String(fatal.message), /no image to show/);
      assert.match(String(fatal.message), /Comprehensive SR/);
      assert.equal(fatal.detail, env('DICOMWEB_TEST_URL'));
      assert.equal(ofType(received, 'ready').length, 1);
      assert.deepEqual(ofType(sent, 'init'), []);
      assert.deepEqual(ofType(sent, 'frame'), []);
    });
  });
});

function isJpeg2000(bytes: Uint8Array): boolean {
  const codestream =
    bytes[0] === 0xff && bytes[1] === 0x4f && bytes[2] === 0xff && bytes[3] === 0x51; // SOC, SIZ
  const jp2 = Buffer.from(bytes.subarray(4, 8)).toString('latin1') === 'jP  '; // JP2 signature box
  return codestream || jp2;
}
