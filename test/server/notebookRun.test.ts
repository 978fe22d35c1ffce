/**
 * Notebook cells run for real (src/notebook/cells.ts, run.ts, render.ts) against the local
 * server: the seed tutorial's 19 cURL commands as pasted, in its order, each answer checked
 * for what it must hold; references between cells; and every limit of a cell reached.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bearerAuth, DicomWebClient } from '../../src/dicomweb';
import { parseNotebook } from '../../src/notebook/format';
import { tutorialNotebook } from '../../src/notebook/tutorial';
import { DROPPED_AUTHORIZATION, NotebookRun, type CellResult } from '../../src/notebook/cells';
import type { LocalServer } from '../../src/server';
import { SEED, writeSeedFiles } from '../support/seedData';
import { localClient, startTestServer, tempDir } from './helpers';

const TUTORIAL = readFileSync(
  join(__dirname, '../../../test/fixtures/azure-tutorial-curl.zh-CN.md'),
  'utf8',
);
const STUDY = SEED.studyInstanceUid;
const SHAPES = SEED.redTriangle.seriesInstanceUid;
const RED = SEED.redTriangle.sopInstanceUid;
const GREEN = SEED.greenSquare.sopInstanceUid;
const BLUE = SEED.blueCircle.sopInstanceUid;

const html = (result: CellResult) =>
  result.outputs.find((output) => output.mime === 'text/html')?.data ?? '';
const json = (result: CellResult) =>
  JSON.parse(result.outputs.find((output) => output.mime === 'application/json')?.data ?? 'null');

/** What each tutorial cell's answer must hold, in the tutorial's order. */
const CHECKS: Array<(result: CellResult) => void> = [
  stored([RED]),
  stored([BLUE]),
  stored([GREEN]),
  parts('application/dicom', [GREEN, RED, BLUE]),
  metadataOf([GREEN, RED, BLUE]),
  parts('application/dicom', [GREEN, RED]),
  metadataOf([GREEN, RED]),
  (result) => {
    assert.equal(result.answer?.kind, 'bytes');
    assert.match(result.answer?.contentType ?? '', /^application\/dicom/);
    assert.ok(result.answer!.bytes > 128, 'a Part 10 file');
  },
  metadataOf([RED]),
  (result) => {
    // One frame of a 64×64 RGB image, uncompressed: 64 × 64 × 3 bytes.
    assert.equal(result.answer?.parts?.length, 1);
    assert.equal(result.answer?.parts?.[0].bytes, 64 * 64 * 3);
    assert.equal(result.answer?.parts?.[0].mediaType, 'application/octet-stream');
  },
  rows('StudyInstanceUID', [STUDY]),
  rows('SeriesInstanceUID', [SHAPES]),
  rows('SeriesInstanceUID', [SHAPES]),
  rows('SOPInstanceUID', [RED]),
  rows('SOPInstanceUID', [RED]),
  rows('SOPInstanceUID', [RED]),
  deleted(`/studies/${STUDY}/series/${SHAPES}/instances/${RED}`),
  deleted(`/studies/${STUDY}/series/${SHAPES}`),
  (result) => {
    // The tutorial's last command is cut short: a study that does not exist.
    assert.equal(result.ok, false);
    assert.match(html(result), /404/);
    assert.match(html(result), /Request sent:[\s\S]*curl --request DELETE/);
  },
];

function stored(uids: string[]): (result: CellResult) => void {
  return (result) => {
    assert.equal(result.answer?.kind, 'store', html(result));
    assert.deepEqual(
      result.answer?.store?.outcomes.map((outcome) => [outcome.status, outcome.sopInstanceUid]),
      uids.map((uid) => ['stored', uid]),
    );
    assert.match(html(result), /1 stored/);
    uids.forEach((uid) => assert.ok(html(result).includes(uid)));
  };
}

function parts(mediaType: string, uids: string[]): (result: CellResult) => void {
  return (result) => {
    assert.equal(result.answer?.kind, 'parts', html(result));
    const listed = result.answer?.parts ?? [];
    assert.deepEqual(
      listed.map((part) => part.mediaType),
      uids.map(() => mediaType),
    );
    assert.deepEqual(listed.map((part) => part.sopInstanceUid).sort(), [...uids].sort());
    assert.ok(listed.every((part) => part.bytes > 128 && part.transferSyntaxUid));
    assert.match(html(result), new RegExp(`${uids.length} parts?\\.`));
  };
}

function metadataOf(uids: string[]): (result: CellResult) => void {
  return (result) => {
    assert.equal(result.answer?.kind, 'metadata', html(result));
    const found = (json(result) as Array<Record<string, { Value: string[] }>>).map(
      (row) => row['00080018'].Value[0],
    );
    assert.deepEqual(found.sort(), [...uids].sort());
  };
}

function rows(keyword: string, values: string[]): (result: CellResult) => void {
  return (result) => {
    assert.equal(result.answer?.kind, 'search', html(result));
    assert.equal(result.answer?.datasets?.length, values.length);
    assert.match(html(result), new RegExp(`<th title="[0-9A-F]{8}">${keyword}</th>`));
    values.forEach((value) => assert.ok(html(result).includes(`<code>${value}</code>`)));
  };
}

function deleted(path: string): (result: CellResult) => void {
  return (result) => {
    assert.equal(result.answer?.kind, 'delete', html(result));
    assert.ok(html(result).includes(`DELETE ${path}`));
  };
}

describe('notebook cells against the local server', () => {
  let server: LocalServer;
  let client: DicomWebClient;
  let folder: string;

  before(async () => {
    server = await startTestServer();
    client = localClient(server);
    folder = tempDir('notebook');
    await writeSeedFiles(folder);
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it('runs the tutorial as pasted, top to bottom, each answer as the tutorial says', async () => {
    const cells = parseNotebook(TUTORIAL).filter((cell) => cell.kind === 'request');
    assert.equal(cells.length, CHECKS.length);
    const run = new NotebookRun(folder);
    for (const [index, cell] of cells.entries()) {
      const result = await run.runCell(client, cell.text);
      CHECKS[index](result);
      // Every tutorial command pastes "Authorization: Bearer {token value}": never sent, said once.
      assert.equal(result.droppedAuthorization, true);
      assert.ok(!JSON.stringify(result.outputs).includes('token value}"'), `cell ${index + 1}`);
      if (result.ok) {
        assert.ok(html(result).includes(DROPPED_AUTHORIZATION.slice(0, 30).replace(/'/g, '&#39;')));
        assert.match(html(result), /\d+ ms · /);
      }
    }
    const left = await client.searchForInstances({}, { studyInstanceUid: STUDY });
    assert.deepEqual(
      left.items.map((row) => row['00080018']?.Value?.[0]),
      [BLUE],
    );
  });

  it("fills a later cell from a named cell's answer ({{name.row.Keyword}}, {{name.tag}})", async () => {
    const run = new NotebookRun(folder);
    const store = await run.runCell(
      client,
      '# @name put\nPOST /studies\n\n< ./red-triangle.dcm\n< ./green-square.dcm',
    );
    assert.equal(store.ok, true, html(store));
    assert.deepEqual(
      run.answerOf('put')?.map((row) => row['00080018'].Value?.[0]),
      [RED, GREEN],
    );
    const series = await run.runCell(
      client,
      '# @name series\nGET /studies/{{put.1.StudyInstanceUID}}/series?SeriesInstanceUID={{put.SeriesInstanceUID}}\nAccept: application/dicom+json',
    );
    rows('SeriesInstanceUID', [SHAPES])(series);
    const instances = await run.runCell(
      client,
      'GET /studies/{{put.0020000D}}/series/{{series.0.SeriesInstanceUID}}/instances?SOPInstanceUID={{put.1.SOPInstanceUID}}',
    );
    rows('SOPInstanceUID', [GREEN])(instances);
    const unknown = await run.runCell(client, 'GET /studies/{{nothing.StudyInstanceUID}}/series');
    assert.equal(unknown.ok, false);
    assert.match(html(unknown), /has not run yet/);
  });

  it('stops reading an answer at its limit, and says so', async () => {
    const run = new NotebookRun(folder, {
      answerBytes: 256,
      listedParts: 1,
      partIdentityBytes: 64,
    });
    const metadata = await run.runCell(client, `GET /studies/${STUDY}/metadata`);
    assert.equal(metadata.ok, false);
    assert.match(html(metadata), /TOO_LARGE/);
    const retrieve = await run.runCell(
      client,
      `GET /studies/${STUDY}/series/${SHAPES}\nAccept: multipart/related; type="application/dicom"; transfer-syntax=*`,
    );
    assert.equal(retrieve.answer?.partCount, 2);
    assert.equal(retrieve.answer?.parts?.length, 1);
    // Larger than partIdentityBytes: counted, its UID not read.
    assert.equal(retrieve.answer?.parts?.[0].sopInstanceUid, undefined);
    assert.ok(retrieve.answer!.bytes > 2 * 64);
    assert.match(html(retrieve), /1 more part\(s\) counted, not listed/);
  });

  it('runs the tutorial notebook green from top to bottom, twice (it cleans up after itself)', async () => {
    const cells = parseNotebook(tutorialNotebook()).filter((cell) => cell.kind === 'request');
    for (const round of [1, 2]) {
      const run = new NotebookRun(folder);
      const results: CellResult[] = [];
      for (const cell of cells) results.push(await run.runCell(client, cell.text));
      assert.deepEqual(
        results.map((result, index) => (result.ok ? 'ok' : `cell ${index + 1}: ${html(result)}`)),
        cells.map(() => 'ok'),
        `round ${round}`,
      );
      assert.equal(results[3].answer?.partCount, 3);
      assert.equal(results[10].answer?.datasets?.length, 1);
    }
    const left = await client.searchForStudies({ match: { StudyInstanceUID: STUDY } });
    assert.equal(left.items.length, 0);
  });
});

describe('notebook cells on a server that wants a token', () => {
  const TOKEN = 'nb-s3cret-token-value';
  let server: LocalServer;
  let folder: string;

  before(async () => {
    server = await startTestServer({ token: TOKEN });
    folder = tempDir('notebook-token');
    await writeSeedFiles(folder);
  });
  after(() => server.close());

  it("sends the connection's token in place of a pasted one, and never shows either", async () => {
    const client = new DicomWebClient({
      baseUrl: `${server.url}/v2`,
      serverKind: 'local',
      auth: bearerAuth(async () => TOKEN),
    });
    try {
      const run = new NotebookRun(folder);
      const pasted = 'Authorization: Bearer pasted.jwt.value';
      const ok = await run.runCell(
        client,
        `GET /studies\n${pasted}\nAccept: application/dicom+json`,
      );
      assert.equal(ok.ok, true, html(ok));
      assert.equal(ok.droppedAuthorization, true);
      const failed = await run.runCell(client, `GET /studies/1.2.3/metadata\n${pasted}`);
      assert.equal(failed.ok, false);
      assert.match(html(failed), /404/);
      assert.match(html(failed), /Authorization: Bearer \{token value\}/);
      for (const result of [ok, failed]) {
        const shown = JSON.stringify(result.outputs);
        assert.ok(!shown.includes(TOKEN) && !shown.includes('pasted.jwt.value'), shown);
      }
    } finally {
      await client.close();
    }
  });

  it("is refused without the token, and the error says the status and the server's words", async () => {
    const client = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
    try {
      const result = await new NotebookRun(folder).runCell(client, 'GET /studies');
      assert.equal(result.ok, false);
      assert.match(html(result), /<strong>401 Unauthorized<\/strong>/);
      assert.match(html(result), /The server said: a bearer token is required/);
      assert.match(html(result), /Request sent:[\s\S]*curl --request GET/);
    } finally {
      await client.close();
    }
  });

  it('stops at once when the cell is cancelled', async () => {
    const client = new DicomWebClient({
      baseUrl: `${server.url}/v2`,
      serverKind: 'local',
      auth: bearerAuth(async () => TOKEN),
    });
    try {
      const aborter = new AbortController();
      aborter.abort();
      const result = await new NotebookRun(folder).runCell(client, 'GET /studies', aborter.signal);
      assert.equal(result.ok, false);
      assert.match(html(result), /CANCELLED/);
    } finally {
      await client.close();
    }
  });
});
