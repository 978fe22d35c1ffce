/**
 * A search's rows for the notebook renderer (src/notebook/searchOutput.ts), read back as the
 * renderer reads them (webview/notebook/searchOutput.ts), what a click on a row's "Show"
 * posts, the check the extension makes of that message, and how the outputs are grouped
 * into VS Code's cell outputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DicomJsonDataset } from '../../src/dicom/types';
import { cellOutputGroups, renderAnswer } from '../../src/notebook/render';
import type { CellAnswer } from '../../src/notebook/run';
import {
  isRevealMessage,
  SEARCH_MIME,
  TABLE_ROWS,
  type SearchOutput,
} from '../../src/notebook/searchOutput';
import { FRAME_MIME } from '../../src/notebook/frameOutput';
import {
  readSearchOutput,
  revealMessage,
  type SearchOutput as RendererSearchOutput,
} from '../../webview/notebook/searchOutput';

const STUDY = { '0020000D': { vr: 'UI', Value: ['1.2.1'] } };
const SERIES = { ...STUDY, '0020000E': { vr: 'UI', Value: ['1.2.1.2'] } };
const INSTANCE = { ...SERIES, '00080018': { vr: 'UI', Value: ['1.2.1.2.3'] } };
const NO_UID = { '00100010': { vr: 'PN', Value: [{ Alphabetic: '<b>Doe</b>^Jane' }] } };

function search(datasets: readonly object[], extra: Partial<CellAnswer> = {}): CellAnswer {
  return {
    kind: 'search',
    request: { method: 'GET', path: '/studies/1.2.1/instances', headers: {} },
    status: 200,
    ms: 7.6,
    bytes: 512,
    warnings: [],
    datasets: datasets as DicomJsonDataset[],
    json: datasets,
    ...extra,
  };
}

/** The renderer's reading of the SEARCH_MIME output of `answer`. */
function rendererRows(answer: CellAnswer, connectionId?: string): RendererSearchOutput {
  const output = renderAnswer(answer, ['a note'], undefined, connectionId).find(
    (entry) => entry.mime === SEARCH_MIME,
  );
  assert.ok(output, 'a search gives the renderer its rows');
  return readSearchOutput(new TextEncoder().encode(output.data));
}

describe('notebook search rows for the renderer', () => {
  it('carries the status line, notes, keyword columns and the values the HTML table shows', () => {
    const rows = rendererRows(search([INSTANCE, NO_UID]), 'conn-1');
    const expected: SearchOutput = {
      status: { status: '200 OK', ms: 8, size: '512 B', request: 'GET /studies/1.2.1/instances' },
      notes: ['a note'],
      columns: [
        { tag: '00080018', keyword: 'SOPInstanceUID', uid: true },
        { tag: '00100010', keyword: 'PatientName', uid: false },
        { tag: '0020000D', keyword: 'StudyInstanceUID', uid: true },
        { tag: '0020000E', keyword: 'SeriesInstanceUID', uid: true },
      ],
      rows: [
        { values: ['1.2.1.2.3', '', '1.2.1', '1.2.1.2'], uid: '1.2.1.2.3' },
        { values: ['', '<b>Doe</b>^Jane', '', ''] },
      ],
      total: 2,
      connectionId: 'conn-1',
    };
    assert.deepEqual(rows, expected);
  });

  it("posts the row's deepest UID on the cell's connection, and nothing for a row without one", () => {
    const rows = rendererRows(search([STUDY, SERIES, INSTANCE, NO_UID]), 'c"<conn');
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((index) => revealMessage(rows, index)),
      [
        { type: 'reveal', connectionId: 'c"<conn', uid: '1.2.1' },
        { type: 'reveal', connectionId: 'c"<conn', uid: '1.2.1.2' },
        { type: 'reveal', connectionId: 'c"<conn', uid: '1.2.1.2.3' },
        undefined,
        undefined,
      ],
    );
    const withoutKernel = rendererRows(search([INSTANCE]));
    assert.equal(revealMessage(withoutKernel, 0), undefined, 'no connection, no "Show"');
  });

  it(`gives the renderer at most ${TABLE_ROWS} rows and the total`, () => {
    const many = Array.from({ length: TABLE_ROWS + 3 }, (_, index) => ({
      '0020000D': { vr: 'UI', Value: [`1.2.${index}`] },
    }));
    const rows = rendererRows(search(many), 'c');
    assert.equal(rows.rows.length, TABLE_ROWS);
    assert.equal(rows.total, TABLE_ROWS + 3);
    assert.equal(rows.rows.at(-1)?.uid, `1.2.${TABLE_ROWS - 1}`);
  });

  it('refuses a renderer message that is not a reveal of a well-formed UID (PS3.5 §9.1)', () => {
    assert.ok(isRevealMessage({ type: 'reveal', connectionId: 'c', uid: '1.2.840.10008.1' }));
    for (const bad of [
      undefined,
      null,
      'reveal',
      { type: 'run', connectionId: 'c', uid: '1.2' },
      { type: 'reveal', connectionId: '', uid: '1.2' },
      { type: 'reveal', connectionId: 'x'.repeat(257), uid: '1.2' },
      { type: 'reveal', connectionId: 'c', uid: '1.2; rm -rf /' },
      { type: 'reveal', connectionId: 'c', uid: '1.'.repeat(33) },
      { type: 'reveal', connectionId: 7, uid: '1.2' },
    ]) {
      assert.equal(isRevealMessage(bad), false, JSON.stringify(bad));
    }
  });

  it("groups a search's rows, HTML and JSON as one output (VS Code shows one of them)", () => {
    const groups = cellOutputGroups(renderAnswer(search([STUDY]), [], undefined, 'c'));
    assert.deepEqual(
      groups.map((group) => group.map((output) => output.mime)),
      [[SEARCH_MIME, 'text/html', 'application/json']],
    );
  });

  it('gives every other output its own: the status line, the JSON below it, each image', () => {
    const metadata = search([INSTANCE], { kind: 'metadata' });
    assert.deepEqual(
      cellOutputGroups(renderAnswer(metadata)).map((group) => group.map((output) => output.mime)),
      [['text/html'], ['application/json']],
    );
    const frames = renderAnswer(
      search([], {
        kind: 'parts',
        json: undefined,
        frameInstance: { studyInstanceUid: '1', seriesInstanceUid: '2', sopInstanceUid: '3' },
        images: [
          { mediaType: 'application/octet-stream', bytes: new Uint8Array(4), frameNumber: 1 },
          { mediaType: 'application/octet-stream', bytes: new Uint8Array(4), frameNumber: 2 },
        ],
      }),
      [],
      { rows: 2, columns: 2 },
    );
    assert.deepEqual(
      cellOutputGroups(frames).map((group) => group.map((output) => output.mime)),
      [['text/html'], [FRAME_MIME], [FRAME_MIME]],
    );
  });
});
