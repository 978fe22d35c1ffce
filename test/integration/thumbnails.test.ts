/**
 * Thumbnails inside the real extension host, against the real Orthanc (it has `/rendered`)
 * and the extension's local server (no `/rendered` on main: the fallback, decoded here for
 * a tooltip and in the page for the grid):
 * - a series and an instance row's tooltip, resolved as VS Code resolves it on hover, carry
 *   a PNG of the image (the red triangle is red);
 * - a hover cancelled before the answer adds nothing;
 * - "Show Thumbnails" opens the grid; its webview asks for the tiles it shows and posts them
 *   drawn (the `tileShown` message), one per instance of the series;
 * - on a server without `/rendered` and `/thumbnail` (the local server with `rendered:
 *   false`), a JPEG 2000 instance's tooltip is drawn in the thumbnail thread
 *   (src/thumbnails/decodeWorker.ts, dist/thumbnailWorker.js with dist/codecs/).
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DicomWebClient } from '../../src/dicomweb';
import { TransferSyntax } from '../../src/dicom/uids';
import { startLocalServer, type LocalServer } from '../../src/server';
import { ensureSampleFiles } from '../support/sampleFiles';
import { SEED, writeSeedFiles } from '../support/seedData';
import { decodePng } from '../ui/helpers/png';
import { activateExtension, executeCommand, waitFor } from './helpers';
import { HOST_TARGETS } from './hostTargets';

interface Node {
  getTreeItem(): vscode.TreeItem;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  connection?: { id: string };
}
interface GridUnderTest {
  tileCount: number;
  posted: { image: number; frame: number; error: number; cancelled: number };
  dispose(): void;
}
interface Api {
  services: {
    tree: {
      getChildren(node?: Node): Promise<Node[]>;
      resolveTreeItem(
        item: vscode.TreeItem,
        node: Node,
        token: vscode.CancellationToken,
      ): Promise<vscode.TreeItem>;
    };
    thumbnails: {
      onDidShowTile: vscode.Event<{ index: number; source: string; panel: GridUnderTest }>;
      dispose(): void;
    };
  };
}

const IMAGE = /!\[Thumbnail\]\(data:(image\/png);base64,([A-Za-z0-9+/=]+)\)/;

/** The tooltip's image as VS Code's hover would show it: the data URI's PNG, decoded. */
function tooltipImage(item: vscode.TreeItem): ReturnType<typeof decodePng> | undefined {
  const markdown = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : '';
  const match = IMAGE.exec(markdown);
  return match ? decodePng(Buffer.from(match[2], 'base64')) : undefined;
}

function redPixels(image: ReturnType<typeof decodePng>): number {
  let count = 0;
  for (let i = 0; i < image.data.length; i += 4)
    if (image.data[i] > 180 && image.data[i + 1] < 80 && image.data[i + 2] < 80) count++;
  return count;
}

for (const target of HOST_TARGETS)
  describe(`Thumbnails against ${target.name}`, function () {
    this.timeout(60_000);
    let api: Api;
    let client: DicomWebClient;
    let stop: () => Promise<void>;
    let connectionId: string;
    // The first endpoint the server has, in the order the thumbnails ask
    // (src/thumbnails/connection.ts).
    const expectedSource = target.behaviour.thumbnail
      ? 'thumbnail'
      : target.behaviour.rendered
        ? 'rendered'
        : 'decoded';

    before(async () => {
      api = (await activateExtension()) as Api;
      const started = await target.start();
      client = started.client;
      stop = started.stop;
      const files = await writeSeedFiles(mkdtempSync(join(tmpdir(), 'dicomweb-it-thumbs-')));
      assert.equal((await client.storeInstances(files)).stored, 3);
      connectionId = (
        await executeCommand<{ id: string }>('dicomweb.server.add', started.connection)
      ).id;
    });

    after(async () => {
      await vscode.workspace
        .getConfiguration('dicomweb')
        .update('servers', [], vscode.ConfigurationTarget.Global);
      await stop();
    });

    async function seriesRow(
      seriesInstanceUid: string,
    ): Promise<{ series: Node; instances: Node[] }> {
      const server = (await api.services.tree.getChildren()).find(
        (root) => root.connection?.id === connectionId,
      );
      assert.ok(server, 'the connection is a root of the tree');
      const study = (await api.services.tree.getChildren(server)).find(
        (n) => n.studyInstanceUid === SEED.studyInstanceUid,
      );
      assert.ok(study, 'the seed study is listed');
      const series = (await api.services.tree.getChildren(study)).find(
        (n) => n.seriesInstanceUid === seriesInstanceUid,
      );
      assert.ok(series, `series ${seriesInstanceUid} is listed`);
      return { series, instances: await api.services.tree.getChildren(series) };
    }

    async function hover(
      node: Node,
      token = new vscode.CancellationTokenSource().token,
    ): Promise<vscode.TreeItem> {
      const item = node.getTreeItem();
      return api.services.tree.resolveTreeItem(item, node, token);
    }

    it(`an instance row's tooltip shows its image (${expectedSource})`, async () => {
      const { instances } = await seriesRow(SEED.redTriangle.seriesInstanceUid);
      const triangle = instances.find((n) => n.sopInstanceUid === SEED.redTriangle.sopInstanceUid);
      assert.ok(triangle);
      const item = await hover(triangle);
      const markdown = (item.tooltip as vscode.MarkdownString).value;
      const image = tooltipImage(item);
      assert.ok(image, `a data: PNG in the tooltip:\n${markdown.slice(0, 400)}`);
      assert.ok(image.width <= 128 && image.height <= 128, `${image.width}×${image.height}`);
      assert.ok(redPixels(image) > 50, `the red triangle is red (${redPixels(image)} red pixels)`);
      assert.match(
        markdown,
        expectedSource === 'decoded'
          ? /decoded here/
          : new RegExp(`the server's /${expectedSource}`),
      );
      // Hovered again: the same item keeps one image.
      const again = await hover(triangle);
      assert.equal(
        (again.tooltip as vscode.MarkdownString).value.match(/!\[Thumbnail\]/g)?.length,
        1,
      );
    });

    it('a hover that ended before the answer adds nothing, and the next hover does', async () => {
      const { instances } = await seriesRow(SEED.redTriangle.seriesInstanceUid);
      const square = instances.find((n) => n.sopInstanceUid === SEED.greenSquare.sopInstanceUid);
      assert.ok(square);
      const source = new vscode.CancellationTokenSource();
      source.cancel();
      const cancelled = await hover(square, source.token);
      // Booleans only: a failed assertion on a decoded image would print all its bytes.
      assert.equal(tooltipImage(cancelled) === undefined, true, 'no image after a cancelled hover');
      assert.equal(
        tooltipImage(await hover(square)) !== undefined,
        true,
        'the next hover shows it',
      );
    });

    it("a series row's tooltip shows its first instance (cached by now: no request)", async () => {
      const { series } = await seriesRow(SEED.redTriangle.seriesInstanceUid);
      const image = tooltipImage(await hover(series));
      assert.ok(image, 'a data: PNG in the series tooltip');
    });

    it('Show Thumbnails opens the grid; its webview draws one tile per instance', async () => {
      // The circle's series: no tooltip above fetched it, so nothing is cached.
      const { series, instances } = await seriesRow(SEED.blueCircle.seriesInstanceUid);
      const shown = new Map<number, string>();
      let grid: GridUnderTest | undefined;
      const subscription = api.services.thumbnails.onDidShowTile((tile) => {
        shown.set(tile.index, tile.source);
        grid = tile.panel;
      });
      try {
        await executeCommand('dicomweb.series.showThumbnails', series);
        await waitFor(() => shown.size === instances.length, {
          description: `${instances.length} tiles drawn by the grid's webview`,
          timeoutMs: 30_000,
        });
        assert.ok(grid);
        assert.equal(grid.tileCount, instances.length);
        assert.equal(grid.posted.error, 0);
        // Orthanc: each tile is the server's /rendered image; the local server: the frame,
        // decoded by the page with the preview's decoders. The tooltips above may have
        // cached an image already, which is posted as such.
        const sources = [...shown.values()];
        if (expectedSource !== 'decoded')
          assert.ok(
            sources.every((s) => s === expectedSource),
            sources.join(),
          );
        else
          assert.ok(
            sources.every((s) => s === 'webview' || s === 'decoded'),
            sources.join(),
          );
        if (expectedSource === 'decoded')
          assert.ok(grid.posted.frame >= 1, 'at least one frame decoded by the page');
      } finally {
        subscription.dispose();
        grid?.dispose();
      }
    });
  });

describe('Thumbnails: a JPEG 2000 tooltip on a server without /rendered (thumbnail thread)', function () {
  this.timeout(60_000);
  let api: Api & { services: { thumbnailThread: { drawn: Map<string, number> } } };
  let server: LocalServer;
  let node: Node;
  const J2K = TransferSyntax.JPEG2000Lossless;

  before(async () => {
    api = (await activateExtension()) as typeof api;
    // rendered: false: /rendered and /thumbnail answer 404, as a server without them; a
    // `generic` connection asks /rendered once, then decodes the stored frame.
    server = await startLocalServer({
      dir: mkdtempSync(join(tmpdir(), 'dicomweb-it-thumbs-j2k-')),
      port: 0,
      rendered: false,
    });
    const sample = (await ensureSampleFiles()).files.j2kLossless;
    assert.equal(sample.transferSyntaxUid, J2K);
    const client = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
    try {
      assert.equal((await client.storeInstances([sample.path])).stored, 1);
    } finally {
      await client.close();
    }
    const { id } = await executeCommand<{ id: string }>('dicomweb.server.add', {
      name: 'No rendered (test)',
      url: `${server.url}/v2`,
      kind: 'generic',
    });
    let level: Node | undefined = (await api.services.tree.getChildren()).find(
      (root) => root.connection?.id === id,
    );
    for (let depth = 0; depth < 3 && level; depth++)
      level = (await api.services.tree.getChildren(level))[0];
    assert.ok(level?.sopInstanceUid, 'the instance row under study and series');
    node = level;
  });

  after(async () => {
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('servers', [], vscode.ConfigurationTarget.Global);
    await server?.close();
  });

  it('shows the image, drawn from the stored JPEG 2000 frame in the thumbnail thread', async () => {
    const before = api.services.thumbnailThread.drawn.get(J2K) ?? 0;
    const item = await api.services.tree.resolveTreeItem(
      node.getTreeItem(),
      node,
      new vscode.CancellationTokenSource().token,
    );
    const markdown = (item.tooltip as vscode.MarkdownString).value;
    const image = tooltipImage(item);
    // Booleans and sizes only: a failed assertion on a decoded image would print its bytes.
    assert.equal(
      image !== undefined,
      true,
      `a data: PNG in the tooltip:\n${markdown.slice(0, 400)}`,
    );
    assert.ok(image!.width <= 128 && image!.height <= 128 && image!.width > 0);
    assert.match(markdown, /decoded here/);
    assert.equal(api.services.thumbnailThread.drawn.get(J2K), before + 1, 'drawn from JPEG 2000');
  });
});
