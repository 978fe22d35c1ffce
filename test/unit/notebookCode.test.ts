/**
 * Requests as code (src/notebook/codePython.ts, codeJavaScript.ts) and a notebook as a shell
 * script (shellScript.ts), over every request the extension builds and every cell of the seed
 * tutorial: the Python compiles (`python3 -m py_compile`) and calls only what the
 * dicomweb-client API reference names; the JavaScript parses and calls only what the npm
 * package has; the shell script passes `sh -n`; no snippet carries a real credential.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Script } from 'node:vm';
import { api } from 'dicomweb-client';
import { DicomWebClient } from '../../src/dicomweb';
import {
  deleteRequest,
  framesRequest,
  metadataRequest,
  renderedRequest,
  retrieveInstanceSinglePartRequest,
  retrieveRequest,
  searchRequest,
  storeRequest,
  storeSinglePartRequest,
  type RequestSpec,
} from '../../src/dicomweb/requests';
import { libraryCall } from '../../src/notebook/code';
import { toJavaScript } from '../../src/notebook/codeJavaScript';
import { toPython } from '../../src/notebook/codePython';
import { parseNotebook } from '../../src/notebook/format';
import { parseRequestCell } from '../../src/notebook/request';
import { notebookToShell } from '../../src/notebook/shellScript';
import { makeTempDir } from '../support/tempDirs';

/**
 * dicomweb_client.api.DICOMwebClient methods named in the package's API reference
 * (https://dicomweb-client.readthedocs.io/en/latest/package.html#dicomweb_client.web.DICOMwebClient,
 * the same list as its DICOMClient protocol, src/dicomweb_client/protocol.py).
 */
const PYTHON_DOCUMENTED = new Set([
  'search_for_studies',
  'search_for_series',
  'search_for_instances',
  'retrieve_study',
  'retrieve_series',
  'retrieve_instance',
  'retrieve_study_metadata',
  'retrieve_series_metadata',
  'retrieve_instance_metadata',
  'retrieve_instance_frames',
  'retrieve_instance_rendered',
  'retrieve_instance_frames_rendered',
  'store_instances',
  'delete_study',
  'delete_series',
  'delete_instance',
]);

const BASE = 'https://pacs.example.org/dicom-web';
const SECRET = 'Bearer real-s3cret';
const TARGET = {
  studyInstanceUid: '1.2.3',
  seriesInstanceUid: '1.2.3.4',
  sopInstanceUid: '1.2.3.4.5',
};

/** Every request builder the tree and the notebook use, at every level. */
function everyRequest(): RequestSpec[] {
  const client = new DicomWebClient({ baseUrl: BASE, serverKind: 'local' });
  const levels = [
    { studyInstanceUid: TARGET.studyInstanceUid },
    { studyInstanceUid: TARGET.studyInstanceUid, seriesInstanceUid: TARGET.seriesInstanceUid },
    TARGET,
  ];
  return [
    searchRequest('studies', {}, { match: { PatientName: 'Doe^J*' }, limit: 50, offset: 5 }),
    searchRequest('studies', {}, { includeField: ['00081030', 'StudyDate'], fuzzyMatching: true }),
    searchRequest('series', { studyInstanceUid: TARGET.studyInstanceUid }),
    searchRequest('series', {}, { match: { Modality: 'CT' } }),
    searchRequest('instances', {}, { match: { SOPInstanceUID: TARGET.sopInstanceUid } }),
    searchRequest('instances', { studyInstanceUid: TARGET.studyInstanceUid }),
    searchRequest('instances', { ...levels[1] }),
    ...levels.flatMap((target) => [
      retrieveRequest(target),
      metadataRequest(target),
      deleteRequest(target),
    ]),
    ...levels.flatMap((target) => client.deleteRequests(target)),
    retrieveInstanceSinglePartRequest(TARGET),
    framesRequest(TARGET, [1, 3], { transferSyntax: '1.2.840.10008.1.2.1' }),
    renderedRequest(TARGET, 1, { mediaType: 'image/png' }),
    storeRequest(['a.dcm', 'b "quoted".dcm']),
    storeRequest(['a.dcm'], TARGET.studyInstanceUid),
    storeSinglePartRequest('a.dcm'),
  ];
}

function tutorialRequests(): RequestSpec[] {
  const tutorial = readFileSync(
    join(__dirname, '../../../test/fixtures/azure-tutorial-curl.zh-CN.md'),
    'utf8',
  );
  return parseNotebook(tutorial)
    .filter((cell) => cell.kind === 'request')
    .map((cell) => parseRequestCell(cell.text, BASE).spec);
}

const ALL = () => [...everyRequest(), ...tutorialRequests()];
const OPTIONS = { baseUrl: BASE, authKind: 'bearer' as const, headers: { Authorization: SECRET } };

describe('requests as Python (dicomweb-client)', () => {
  it('compiles with python3 -m py_compile, calling only documented methods, no real token', () => {
    const dir = makeTempDir('nbcode-py-');
    const specs = ALL();
    const files = specs.map((spec, index) => {
      const code = toPython(spec, OPTIONS);
      assert.ok(!code.includes('real-s3cret'), code);
      assert.ok(code.includes('{token value}'), code);
      const calls = [...code.matchAll(/client\.(\w+)\(/g)].map((match) => match[1]);
      assert.equal(calls.length, libraryCall(spec) ? 1 : 0, code);
      for (const call of calls) assert.ok(PYTHON_DOCUMENTED.has(call), `${call} in\n${code}`);
      const file = join(dir, `snippet${index}.py`);
      writeFileSync(file, code);
      return file;
    });
    execFileSync('python3', ['-m', 'py_compile', ...files], { stdio: 'pipe' });
    assert.ok(specs.length > 30);
  });

  it('says in the snippet when the library has no call for the request', () => {
    const code = toPython(
      { method: 'GET', path: '/tools/find', headers: {}, root: 'server' },
      OPTIONS,
    );
    assert.match(code, /# dicomweb-client has no call for GET/);
  });
});

describe('requests as JavaScript (npm dicomweb-client)', () => {
  const methods = new Set(
    Object.getOwnPropertyNames(api.DICOMwebClient.prototype).filter(
      (name) => !name.startsWith('_'),
    ),
  );
  it('parses, and calls only methods the package has, no real token', () => {
    for (const spec of ALL()) {
      const code = toJavaScript(spec, OPTIONS);
      assert.ok(!code.includes('real-s3cret'), code);
      new Script(code, { filename: `${spec.method} ${spec.path}` });
      const calls = [...code.matchAll(/client\.(\w+)\(/g)].map((match) => match[1]!);
      for (const call of calls) assert.ok(methods.has(call), `${call} in\n${code}`);
      const call = libraryCall(spec);
      if (call && call.op !== 'delete') assert.equal(calls.length, 1, code);
      else assert.match(code, /^\/\/ dicomweb-client .*has no .*fetch:/);
    }
  });
});

describe('notebook as a shell script', () => {
  it('is the tutorial as cURL commands, one per request cell, valid for sh -n', () => {
    const tutorial = readFileSync(
      join(__dirname, '../../../test/fixtures/azure-tutorial-curl.zh-CN.md'),
      'utf8',
    );
    const cells = parseNotebook(tutorial);
    const script = notebookToShell(cells, { baseUrl: BASE, authKind: 'bearer' });
    const requests = cells.filter((cell) => cell.kind === 'request').length;
    assert.equal(script.match(/^curl /gm)?.length, requests);
    assert.ok(script.startsWith('#!/bin/sh\n'));
    execFileSync('sh', ['-n'], { input: script });
  });

  it('keeps an unreadable cell and a cell using earlier answers as comments, saying why', () => {
    const script = notebookToShell(
      [
        { kind: 'request', text: 'GET /studies/{{found.StudyInstanceUID}}/metadata' },
        { kind: 'request', text: 'curl https://elsewhere.example.com/studies' },
      ],
      { baseUrl: BASE },
    );
    assert.match(script, /# This cell uses values of earlier answers/);
    assert.match(script, /# Not exported: /);
    assert.equal(script.match(/^curl /gm), null);
    execFileSync('sh', ['-n'], { input: script });
  });
});
