/**
 * The DICOMweb view inside the real extension host (code-server), against the real Orthanc
 * that `npm test` started and against the extension's local server: connections, tree,
 * paging, filter, upload, metadata documents, delete at each level; and, on Orthanc with
 * HTTP basic auth, secrets kept out of settings and the log. Where the two servers answer
 * differently the suite reads `target.behaviour` (test/support/targets.ts says why).
 */
import * as assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { metadataUri } from '../../src/documents/metadataDocuments';
import { basicAuth, DicomWebClient } from '../../src/dicomweb';
import { SEED, writeSeedFiles } from '../support/seedData';
import { writeSmallInstances } from '../support/bulkData';
import { activateExtension, executeCommand, waitFor } from './helpers';
import { env, HOST_TARGETS } from './hostTargets';

/** The parts of the extension's API the tests read (see src/extension.ts). */
interface Api {
  services: {
    tree: {
      getChildren(node?: unknown): Promise<Node[]>;
      refresh(node?: unknown): void;
      serverNode(id: string): Node | undefined;
    };
    drop: {
      handleDrop(
        target: unknown,
        data: vscode.DataTransfer,
        token: vscode.CancellationToken,
      ): Promise<void>;
    };
    prompts: {
      confirm(message: string, detail: string, action: string): Promise<boolean>;
      askSecret(title: string, prompt: string): Promise<string | undefined>;
    };
    connections: {
      list(): Array<{ id: string; name: string; url: string }>;
      getSecret(id: string): Thenable<string | undefined>;
    };
    extensionContext: vscode.ExtensionContext;
  };
  activationMs: number;
}

interface Node {
  id: string;
  tooltip(): vscode.MarkdownString | string | undefined;
  parent?: Node;
  getTreeItem(): vscode.TreeItem;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  connection?: { id: string };
}

const contextOf = (node: Node): string => String(node.getTreeItem().contextValue ?? '');
const labelOf = (node: Node): string => {
  const label = node.getTreeItem().label;
  return typeof label === 'string' ? label : (label?.label ?? '');
};
const descriptionOf = (node: Node): string => String(node.getTreeItem().description ?? '');

for (const target of HOST_TARGETS)
  describe(`DICOMweb Explorer against ${target.name}`, function () {
    this.timeout(60_000);
    let api: Api;
    let orthanc: DicomWebClient;
    let stopTarget: () => Promise<void>;
    let connectionInput: Record<string, string>;
    let seedDir: string;
    let seedFiles: string[];
    let connectionId: string;
    const confirmations: Array<{ message: string; detail: string }> = [];
    let answer = true;

    before(async () => {
      api = (await activateExtension()) as Api;
      console.log(
        `      activate() took ${api.activationMs.toFixed(1)} ms inside the extension host`,
      );
      api.services.prompts = {
        confirm: async (message, detail) => {
          confirmations.push({ message, detail });
          return answer;
        },
        askSecret: async () => undefined,
      };
      const started = await target.start();
      orthanc = started.client;
      stopTarget = started.stop;
      connectionInput = started.connection;
      seedDir = mkdtempSync(join(tmpdir(), 'dicomweb-it-seed-'));
      const files = await writeSeedFiles(seedDir);
      seedFiles = files;
      const summary = await orthanc.storeInstances(files);
      assert.equal(summary.stored, 3);
    });

    after(async () => {
      await vscode.workspace
        .getConfiguration('dicomweb')
        .update('servers', [], vscode.ConfigurationTarget.Global);
      await vscode.workspace
        .getConfiguration('dicomweb')
        .update('pageSize', undefined, vscode.ConfigurationTarget.Global);
      await stopTarget();
    });

    async function serverNode(): Promise<Node> {
      const roots = await api.services.tree.getChildren();
      const node = roots.find((root) => root.connection?.id === connectionId);
      assert.ok(node, 'the connection is a root of the tree');
      return node;
    }

    async function children(node: Node): Promise<Node[]> {
      return api.services.tree.getChildren(node);
    }

    async function seedStudy(): Promise<Node> {
      const server = await serverNode();
      const study = (await children(server)).find(
        (node) => node.studyInstanceUid === SEED.studyInstanceUid,
      );
      assert.ok(study, 'the seed study is listed');
      return study;
    }

    it('starts with the welcome view: no connection, no root', async () => {
      assert.deepEqual(await api.services.tree.getChildren(), []);
    });

    it('adds a connection; it is saved in settings with its kind and no secret', async () => {
      const connection = await executeCommand<{ id: string }>(
        'dicomweb.server.add',
        connectionInput,
      );
      connectionId = connection.id;
      const saved = vscode.workspace
        .getConfiguration('dicomweb')
        .get<Array<Record<string, unknown>>>('servers', []);
      assert.equal(saved.length, 1);
      assert.equal(saved[0].url, connectionInput.url);
      assert.equal(saved[0].kind, connectionInput.kind);
      const roots = await api.services.tree.getChildren();
      assert.equal(roots.length, 1);
      assert.equal(labelOf(roots[0]), connectionInput.name);
      assert.match(contextOf(roots[0]), /^dicomweb:server\b/);
    });

    it('lists the seed study with patient, date, modality and counts', async () => {
      const study = await seedStudy();
      assert.match(labelOf(study), /Shapes/);
      assert.match(labelOf(study), /DICOMweb tutorial shapes/);
      const description = descriptionOf(study);
      assert.match(description, /SHAPES-0001/);
      assert.match(description, /2021-07-16/);
      assert.match(description, /2 series, 3 instances/);
      assert.equal(study.getTreeItem().tooltip, undefined, 'the tooltip waits for a hover');
      const tooltip = study.tooltip() as vscode.MarkdownString;
      assert.match(tooltip.value, new RegExp(SEED.studyInstanceUid.replace(/\./g, '\\.')));
    });

    it('lists the two series and the three instances', async () => {
      const series = await children(await seedStudy());
      assert.deepEqual(
        series.map((node) => node.seriesInstanceUid),
        [SEED.redTriangle.seriesInstanceUid, SEED.blueCircle.seriesInstanceUid],
      );
      assert.match(labelOf(series[0]), /#1 OT — Square and triangle/);
      assert.equal(descriptionOf(series[0]), '2 instances');
      const shapes = await children(series[0]);
      assert.deepEqual(
        shapes.map((node) => node.sopInstanceUid),
        [SEED.greenSquare.sopInstanceUid, SEED.redTriangle.sopInstanceUid],
      );
      assert.match(descriptionOf(shapes[0]), /Secondary Capture/);
      const circle = await children(series[1]);
      assert.deepEqual(
        circle.map((node) => node.sopInstanceUid),
        [SEED.blueCircle.sopInstanceUid],
      );
    });

    it('pages studies with "Load more…"', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dicomweb-it-more-'));
      const extra = await writeSmallInstances(dir, 2, {
        studies: 2,
        seriesPerStudy: 1,
        seed: 'it-paging',
      });
      const stored = await orthanc.storeInstances(extra.map((entry) => entry.path));
      assert.equal(stored.stored, 2);
      await vscode.workspace
        .getConfiguration('dicomweb')
        .update('pageSize', 2, vscode.ConfigurationTarget.Global);
      const server = await serverNode();
      api.services.tree.refresh(server);
      const first = await children(server);
      assert.equal(first.filter((node) => node.studyInstanceUid).length, 2);
      const more = first.find((node) => contextOf(node) === 'dicomweb:loadMore');
      assert.ok(more, 'a "Load more…" row follows a full page');
      await executeCommand('dicomweb.node.loadMore', server);
      const all = await children(server);
      assert.equal(all.filter((node) => node.studyInstanceUid).length, 3);
      assert.equal(
        all.some((node) => contextOf(node) === 'dicomweb:loadMore'),
        false,
      );
      await vscode.workspace
        .getConfiguration('dicomweb')
        .update('pageSize', undefined, vscode.ConfigurationTarget.Global);
    });

    it('filters by patient name with wildcards, shows the filter, and clears it', async () => {
      const server = await serverNode();
      await executeCommand('dicomweb.server.setFilter', server, { patientName: 'Test^Sha*' });
      const filtered = await children(server);
      assert.deepEqual(
        filtered.map((node) => node.studyInstanceUid),
        [SEED.studyInstanceUid],
      );
      assert.match(descriptionOf(server), /patient: Test\^Sha\*/);
      assert.match(contextOf(server), /\bfiltered\b/);
      await executeCommand('dicomweb.server.setFilter', server, { studyDate: '19990101-19991231' });
      const none = await children(server);
      assert.equal(none.length, 1);
      assert.equal(labelOf(none[0]), 'No study matches the filter');
      await executeCommand('dicomweb.server.clearFilter', server);
      assert.equal((await children(server)).filter((node) => node.studyInstanceUid).length, 3);
    });

    it('uploads from the Explorer: new, duplicate and non-DICOM files each get their outcome', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dicomweb-it-upload-'));
      const fresh = await writeSmallInstances(join(dir, 'new'), 2, {
        studies: 1,
        seriesPerStudy: 1,
        seed: 'it-upload',
      });
      const freshPaths = fresh.map((entry) => entry.path);
      // An extension-less DICOM file inside a folder counts too.
      mkdirSync(join(dir, 'folder'));
      copyFileSync(freshPaths[1], join(dir, 'folder', 'IM0001'));
      const duplicate = join(dir, 'red-triangle-again.dcm');
      copyFileSync(join(seedDir, SEED.redTriangle.fileName), duplicate);
      const text = join(dir, 'notes.txt');
      writeFileSync(text, 'not a DICOM file');
      const result = await executeCommand<{
        outcomes: Array<{ file: string; status: string }>;
        notDicom: string[];
        stored: number;
        skipped: number;
      }>('dicomweb.upload.fromExplorer', vscode.Uri.file(freshPaths[0]), [
        vscode.Uri.file(freshPaths[0]),
        vscode.Uri.file(join(dir, 'folder')),
        vscode.Uri.file(duplicate),
        vscode.Uri.file(text),
      ]);
      assert.deepEqual(result.notDicom, [text]);
      const byFile = new Map(result.outcomes.map((outcome) => [outcome.file, outcome.status]));
      assert.equal(byFile.get(freshPaths[0]), 'stored');
      assert.equal(byFile.get(join(dir, 'folder', 'IM0001')), 'stored');
      // Orthanc answers a duplicate with 200 and keeps its copy; Azure and the local server refuse
      // it (45070).
      assert.equal(
        byFile.get(duplicate),
        target.behaviour.duplicateStow === 'stored-again' ? 'stored' : 'failed',
      );
      const found = await orthanc.searchForInstances({
        match: { SOPInstanceUID: fresh.map((entry) => entry.sopInstanceUid) },
      });
      assert.equal(found.items.length, 2, 'both new instances are on the server');
    });

    it('takes files dropped on a study row to POST /studies/{study}; a file of another study is not sent', async () => {
      const study = await seedStudy();
      const dir = mkdtempSync(join(tmpdir(), 'dicomweb-it-drop-'));
      const [other] = await writeSmallInstances(dir, 1, { seed: `it-drop-${target.name}` });
      const dropped = new vscode.DataTransfer();
      const uris = [
        vscode.Uri.file(join(seedDir, SEED.blueCircle.fileName)),
        vscode.Uri.file(other.path),
      ];
      dropped.set(
        'text/uri-list',
        new vscode.DataTransferItem(uris.map((uri) => uri.toString()).join('\r\n')),
      );
      await api.services.drop.handleDrop(
        study,
        dropped,
        new vscode.CancellationTokenSource().token,
      );
      const found = await orthanc.searchForInstances({
        match: { SOPInstanceUID: other.sopInstanceUid },
      });
      assert.equal(found.items.length, 0, 'the file of another study was refused before sending');
      const request = `POST ${connectionInput.url}/studies/${SEED.studyInstanceUid}`;
      await waitFor(() => readLogs(api.services.extensionContext.logUri.fsPath).includes(request), {
        description: `"${request}" in the log`,
      });
    });

    it('opens instance metadata as a read-only JSON document with tag hovers and keyword hints', async () => {
      const series = await children(await seedStudy());
      const [, triangle] = await children(series[0]);
      const [editor] = await executeCommand<vscode.TextEditor[]>(
        'dicomweb.node.openMetadata',
        triangle,
      );
      const document = editor.document;
      assert.equal(document.uri.scheme, 'dicomweb-metadata');
      assert.equal(document.languageId, 'json');
      assert.match(document.uri.path, /instance metadata\)\.json$/);
      const datasets = JSON.parse(document.getText()) as Array<
        Record<string, { Value?: unknown[]; BulkDataURI?: string }>
      >;
      assert.equal(datasets.length, 1);
      assert.equal(datasets[0]['00080018'].Value?.[0], SEED.redTriangle.sopInstanceUid);
      assert.ok(datasets[0]['7FE00010'].BulkDataURI, 'pixel data appears as its BulkDataURI');
      const offset = document.getText().indexOf('"0020000D"');
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        document.uri,
        document.positionAt(offset + 3),
      );
      const hoverText = hovers
        .flatMap((hover) =>
          hover.contents.map((content) => (typeof content === 'string' ? content : content.value)),
        )
        .join('\n');
      assert.match(hoverText, /StudyInstanceUID/);
      assert.match(hoverText, /UI/);
      const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>(
        'vscode.executeInlayHintProvider',
        document.uri,
        new vscode.Range(0, 0, document.lineCount, 0),
      );
      const labels = hints.map((hint) =>
        typeof hint.label === 'string' ? hint.label : hint.label.map((part) => part.value).join(''),
      );
      assert.ok(
        labels.includes('StudyInstanceUID'),
        `inlay hints: ${labels.slice(0, 5).join(', ')}`,
      );
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('says in the metadata document why it could not be read, and never hangs', async () => {
      // A study this server does not have: the document must settle with the reason.
      const uri = metadataUri(
        { connectionId, studyInstanceUid: '1.2.826.0.1.3680043.8.498.404' },
        'missing',
        'missing study (study metadata)',
      );
      const outcome = await Promise.race([
        vscode.workspace.openTextDocument(uri).then(
          (document) => ({ text: document.getText() }),
          (error: unknown) => ({ error: String(error) }),
        ),
        new Promise<{ hung: true }>((resolve) => setTimeout(() => resolve({ hung: true }), 20_000)),
      ]);
      assert.ok(!('hung' in outcome), 'the document settled within 20 s');
      assert.ok('error' in outcome, 'no document for a study the server does not have');
      assert.match(outcome.error, /404/, 'the reason names the answer');
      // The command that opens it gives its caller an answer too (its error is a notification,
      // not awaited: a caller such as a notebook's Show must not wait for a person).
      // (Find by UID on a connection that is gone: what a notebook row's Show runs.)
      const started = Date.now();
      const returned = await Promise.race([
        vscode.commands
          .executeCommand('dicomweb.findByUid', 'no-such-connection', SEED.studyInstanceUid)
          .then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 20_000)),
      ]);
      assert.ok(returned, 'the failed command returned to its caller');
      assert.ok(Date.now() - started < 15_000);
    });

    it('downloads the seed study into a folder, from a worker thread: {study}/{series}/{SOPInstanceUID}.dcm, byte for byte', async () => {
      const study = await seedStudy();
      const folder = mkdtempSync(join(tmpdir(), 'dicomweb-it-download-'));
      const results = await executeCommand<
        Array<{
          files: Array<{ path: string; sopInstanceUid?: string }>;
          bytes: number;
          reader: string;
        }>
      >('dicomweb.node.download', study, [study], vscode.Uri.file(folder));
      assert.equal(results.length, 1);
      // Both servers here speak http: the worker reads the answer straight from the socket.
      assert.equal(results[0].reader, 'socket');
      const files = results[0].files;
      assert.equal(files.length, 3);
      const instances = [SEED.greenSquare, SEED.redTriangle, SEED.blueCircle];
      for (const [index, instance] of instances.entries()) {
        const file = files.find((f) => f.sopInstanceUid === instance.sopInstanceUid);
        assert.ok(file, `${instance.sopInstanceUid} downloaded`);
        assert.equal(
          file.path,
          join(
            folder,
            SEED.studyInstanceUid,
            instance.studyInstanceUid,
            instance.seriesInstanceUid,
            `${instance.sopInstanceUid}.dcm`,
          ),
        );
        assert.ok(
          readFileSync(file.path).equals(readFileSync(seedFiles[index])),
          `${instance.sopInstanceUid} is the uploaded file`,
        );
      }
      assert.equal(
        results[0].bytes,
        seedFiles.reduce((sum, path) => sum + statSync(path).size, 0),
      );
    });

    it("copies a node request as cURL with the seed's form", async () => {
      const study = await seedStudy();
      const curl = await executeCommand<string>('dicomweb.node.copyCurl', study, undefined, 1);
      assert.match(
        curl,
        new RegExp(
          `^curl --request GET ".*/studies/${SEED.studyInstanceUid.replace(/\./g, '\\.')}/metadata"`,
        ),
      );
      assert.equal(await vscode.env.clipboard.readText(), curl);
    });

    it('copies the same node request as Python and JavaScript (dicomweb-client)', async () => {
      const study = await seedStudy();
      const uid = SEED.studyInstanceUid.replace(/\./g, '\\.');
      const python = await executeCommand<string>('dicomweb.node.copyPython', study, undefined, 1);
      assert.match(
        python,
        new RegExp(`client\\.retrieve_study_metadata\\(\\n +study_instance_uid="${uid}"`),
      );
      assert.equal(await vscode.env.clipboard.readText(), python);
      const js = await executeCommand<string>('dicomweb.node.copyJavaScript', study, undefined, 1);
      assert.match(
        js,
        new RegExp(`client\\.retrieveStudyMetadata\\(\\{\\n +"studyInstanceUID": "${uid}"`),
      );
      assert.equal(await vscode.env.clipboard.readText(), js);
    });

    it('asks before deleting and deletes nothing when the answer is no', async () => {
      const series = await children(await seedStudy());
      const [green] = await children(series[0]);
      answer = false;
      const result = await executeCommand<{ confirmed: boolean; deleted: unknown[] }>(
        'dicomweb.node.delete',
        green,
      );
      answer = true;
      assert.equal(result.confirmed, false);
      assert.equal(result.deleted.length, 0);
      const still = await orthanc.searchForInstances({
        match: { SOPInstanceUID: SEED.greenSquare.sopInstanceUid },
      });
      assert.equal(still.items.length, 1);
    });

    it('deletes an instance, then a series, then the study; the server no longer has them', async () => {
      let series = await children(await seedStudy());
      const [green] = await children(series[0]);
      confirmations.length = 0;
      await executeCommand('dicomweb.node.delete', green);
      assert.match(confirmations[0].message, /instance 1/);
      assert.match(confirmations[0].detail, /Test, Shapes|Shapes/);
      assert.equal(
        (
          await orthanc.searchForInstances({
            match: { SOPInstanceUID: SEED.greenSquare.sopInstanceUid },
          })
        ).items.length,
        0,
      );
      assert.equal(
        (
          await orthanc.searchForInstances({
            match: { SOPInstanceUID: SEED.redTriangle.sopInstanceUid },
          })
        ).items.length,
        1,
        'its sibling is untouched',
      );

      series = await children(await seedStudy());
      const circle = series.find(
        (node) => node.seriesInstanceUid === SEED.blueCircle.seriesInstanceUid,
      );
      assert.ok(circle);
      await executeCommand('dicomweb.node.delete', circle);
      assert.match(confirmations[1].detail, /Series 2 OT "Circle" — 1 instance/);
      assert.equal(
        (await orthanc.searchForSeries({}, { studyInstanceUid: SEED.studyInstanceUid })).items
          .length,
        1,
      );

      const study = await seedStudy();
      await executeCommand('dicomweb.node.delete', study);
      assert.match(confirmations[2].detail, /Study "DICOMweb tutorial shapes" of patient/);
      assert.equal(
        (await orthanc.searchForStudies({ match: { StudyInstanceUID: SEED.studyInstanceUid } }))
          .items.length,
        0,
      );
      const server = await serverNode();
      assert.equal(
        (await children(server)).some((node) => node.studyInstanceUid === SEED.studyInstanceUid),
        false,
        'the tree refreshed',
      );
    });
  });

describe('DICOMweb Explorer with HTTP basic auth (Orthanc)', function () {
  this.timeout(60_000);
  let api: Api;
  let seedDir: string;

  before(async () => {
    api = (await activateExtension()) as Api;
    api.services.prompts = { confirm: async () => true, askSecret: async () => undefined };
    seedDir = mkdtempSync(join(tmpdir(), 'dicomweb-it-auth-'));
    await writeSeedFiles(seedDir);
  });

  after(async () => {
    await vscode.workspace
      .getConfiguration('dicomweb')
      .update('servers', [], vscode.ConfigurationTarget.Global);
  });

  async function children(node: Node): Promise<Node[]> {
    return api.services.tree.getChildren(node);
  }

  it('keeps secrets out of settings and the log; a wrong password shows an error row', async () => {
    const password = env('DICOMWEB_TEST_AUTH_PASSWORD');
    const secured = await executeCommand<{ id: string }>('dicomweb.server.add', {
      name: 'Orthanc (basic auth)',
      url: env('DICOMWEB_TEST_AUTH_URL'),
      kind: 'orthanc',
      auth: 'basic',
      username: env('DICOMWEB_TEST_AUTH_USER'),
      secret: password,
    });
    const check = new DicomWebClient({
      baseUrl: env('DICOMWEB_TEST_AUTH_URL'),
      auth: basicAuth(env('DICOMWEB_TEST_AUTH_USER'), password),
    });
    await check.storeInstances([join(seedDir, SEED.blueCircle.fileName)]);
    await check.close();
    const roots = await api.services.tree.getChildren();
    const node = roots.find((root) => root.connection?.id === secured.id);
    assert.ok(node);
    const studies = await children(node);
    assert.ok(
      studies.some((study) => study.studyInstanceUid === SEED.studyInstanceUid),
      'the secured server lists its study',
    );
    assert.equal(await api.services.connections.getSecret(secured.id), password);
    const settings = JSON.stringify(vscode.workspace.getConfiguration('dicomweb').get('servers'));
    assert.equal(settings.includes(password), false, 'no secret in settings');

    // A wrong password: the 401 asks again (answered "dismiss" here) and the tree shows why.
    await vscode.commands.executeCommand('dicomweb.server.add', {
      name: 'Orthanc (wrong password)',
      url: env('DICOMWEB_TEST_AUTH_URL'),
      kind: 'orthanc',
      auth: 'basic',
      username: env('DICOMWEB_TEST_AUTH_USER'),
      secret: 'not-the-password',
    });
    const wrong = (await api.services.tree.getChildren()).find(
      (root) => labelOf(root) === 'Orthanc (wrong password)',
    );
    assert.ok(wrong);
    const rows = await children(wrong);
    assert.equal(rows.length, 1);
    assert.equal(contextOf(rows[0]), 'dicomweb:error');
    assert.match(labelOf(rows[0]), /Not authorized \(401\)/);

    const logText = readLogs(api.services.extensionContext.logUri.fsPath);
    assert.ok(logText.includes(env('DICOMWEB_TEST_AUTH_URL')), 'requests are logged');
    assert.equal(logText.includes(password), false, 'no secret in the log');
    assert.equal(logText.includes('not-the-password'), false);
  });

  it('shows an unreachable server as an error row with the reason; the retry queries again', async () => {
    // Port 9 (discard) on loopback: nothing listens there, the connection is refused at once.
    await vscode.commands.executeCommand('dicomweb.server.add', {
      name: 'Nowhere',
      url: 'http://127.0.0.1:9/dicom-web',
      kind: 'generic',
    });
    const node = (await api.services.tree.getChildren()).find(
      (root) => labelOf(root) === 'Nowhere',
    );
    assert.ok(node);
    const rows = await children(node);
    assert.equal(rows.length, 1);
    assert.equal(contextOf(rows[0]), 'dicomweb:error');
    assert.match(labelOf(rows[0]), /Cannot reach the server/);
    assert.match(labelOf(rows[0]), /ECONNREFUSED/);
    const retry = rows[0].getTreeItem().command;
    assert.equal(retry?.command, 'dicomweb.node.refresh');
    await vscode.commands.executeCommand(retry.command, ...(retry.arguments ?? []));
    const again = await children(node);
    assert.equal(contextOf(again[0]), 'dicomweb:error', 'queried again, still unreachable');
    await vscode.commands.executeCommand('dicomweb.server.remove', node);
  });

  it('removes a connection together with its secret', async () => {
    const roots = await api.services.tree.getChildren();
    const secured = roots.find((root) => labelOf(root) === 'Orthanc (basic auth)');
    assert.ok(secured?.connection);
    await executeCommand('dicomweb.server.remove', secured);
    assert.equal(await api.services.connections.getSecret(secured.connection.id), undefined);
    assert.equal(
      api.services.connections
        .list()
        .some((connection) => connection.id === secured.connection?.id),
      false,
    );
  });
});

/** Every log file the extension host wrote for this extension (the LogOutputChannel's file). */
function readLogs(folder: string): string {
  let text = '';
  const visit = (path: string): void => {
    let info;
    try {
      info = statSync(path);
    } catch {
      return;
    }
    if (info.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else if (path.endsWith('.log')) text += readFileSync(path, 'utf8');
  };
  visit(folder);
  // The output channel's log file sits in the host's log folder, one level above ours.
  visit(join(folder, '..'));
  return text;
}
