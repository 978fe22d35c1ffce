/**
 * A cell's answer as outputs (src/notebook/render.ts). The HTML is shown in the notebook's
 * output webview: whatever the server sends (a patient name, a server message, a media type)
 * is text, never markup.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DicomJsonDataset } from '../../src/dicom/types';
import { DicomWebHttpError } from '../../src/dicomweb';
import { renderAnswer, renderError, searchTable, TABLE_ROWS } from '../../src/notebook/render';
import type { CellAnswer } from '../../src/notebook/run';
import { SEARCH_MIME } from '../../src/notebook/searchOutput';

const HOSTILE = '<img src=x onerror="alert(1)">&';

function answer(part: Partial<CellAnswer>): CellAnswer {
  return {
    kind: 'search',
    request: { method: 'GET', path: '/studies', headers: {} },
    status: 200,
    ms: 12.4,
    bytes: 2048,
    warnings: [],
    ...part,
  };
}

describe('notebook outputs', () => {
  it('shows status, time and size first, then keywords as columns with UIDs whole', () => {
    const rows: DicomJsonDataset[] = [
      {
        '0020000D': { vr: 'UI', Value: ['1.2.3.4'] },
        '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
        '00081032': { vr: 'SQ', Value: [{}, {}] },
      },
      { '0020000D': { vr: 'UI', Value: ['1.2.3.5'] } },
    ];
    const [search, html, json] = renderAnswer(answer({ datasets: rows, json: rows }));
    assert.equal(search.mime, SEARCH_MIME, "the renderer's rows first, the HTML its fallback");
    assert.match(
      html.data,
      /^<p class="dicomweb-status"><strong>200 OK<\/strong> · 12 ms · 2\.0 KiB · <code>GET \/studies<\/code><\/p>/,
    );
    assert.match(
      html.data,
      /<th title="00081032">ProcedureCodeSequence<\/th><th title="00100010">PatientName<\/th><th title="0020000D">StudyInstanceUID<\/th>/,
    );
    assert.match(
      html.data,
      /<td>2 item\(s\)<\/td><td>Doe\^Jane<\/td><td><code>1\.2\.3\.4<\/code><\/td>/,
    );
    assert.match(html.data, /<td><\/td><td><\/td><td><code>1\.2\.3\.5<\/code><\/td>/);
    assert.equal(json.mime, 'application/json');
    assert.deepEqual(JSON.parse(json.data), rows);
  });

  it('writes what the server sent as text, never as markup', () => {
    const row: DicomJsonDataset = { '00100010': { vr: 'PN', Value: [{ Alphabetic: HOSTILE }] } };
    const outputs = [
      ...renderAnswer(answer({ datasets: [row] }), [HOSTILE]),
      ...renderAnswer(
        answer({ kind: 'parts', parts: [{ mediaType: HOSTILE, bytes: 1 }], partCount: 1 }),
      ),
      ...renderError(
        new DicomWebHttpError('GET', 'http://h/studies', 400, 'Bad Request', HOSTILE),
        { method: 'GET', path: '/studies', query: [['PatientName', HOSTILE]], headers: {} },
        { baseUrl: 'http://h', authKind: 'bearer' },
      ),
    ];
    // The search's rows for the renderer are JSON, which it writes as text (textContent).
    for (const output of outputs.filter((entry) => entry.mime === 'text/html')) {
      assert.ok(!output.data.includes('<img'), output.data);
      assert.ok(output.data.includes('&#60;img'), output.data);
    }
  });

  it(`lists at most ${TABLE_ROWS} rows in the table and says where the rest are`, () => {
    const rows = Array.from({ length: TABLE_ROWS + 5 }, (_, index) => ({
      '0020000D': { vr: 'UI', Value: [`1.2.${index}`] },
    }));
    const html = searchTable(rows);
    assert.equal(html.match(/<tr>/g)?.length, TABLE_ROWS + 1, 'header and rows');
    assert.match(
      html,
      new RegExp(`First ${TABLE_ROWS} of ${TABLE_ROWS + 5} rows; all are in the JSON`),
    );
  });

  it('hides the credential in the request an error shows', () => {
    const [output] = renderError(
      new DicomWebHttpError('GET', 'http://h/studies', 403, 'Forbidden', undefined),
      { method: 'GET', path: '/studies', headers: { accept: 'application/dicom+json' } },
      { baseUrl: 'http://user:pw@h', authKind: 'bearer' },
    );
    assert.match(output.data, /Authorization: Bearer \{token value\}/);
    assert.ok(!output.data.includes('pw@'));
  });
});
