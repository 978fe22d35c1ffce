/**
 * Restricted Mode (issue 15): a notebook in a workspace the user has not trusted reads no
 * file and sends no request, whatever its cells say; once trusted, the same run sends them.
 * Against the real local server: what it holds after each cell shows what was sent.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotebookRun, RESTRICTED_MODE } from '../../src/notebook/cells';
import type { LocalServer } from '../../src/server';
import { SEED, writeSeedFiles } from '../support/seedData';
import { localClient, startTestServer, tempDir } from './helpers';

const STUDY = SEED.studyInstanceUid;
const UPLOAD = `POST /studies\n\n< ./red-triangle.dcm`;
const CURL_UPLOAD = `curl --request POST "{Service URL}/v{version}/studies" --header "Content-Type: application/dicom" --data-binary "@./blue-circle.dcm"`;

describe('notebook cells in Restricted Mode', () => {
  let server: LocalServer;
  let folder: string;

  before(async () => {
    server = await startTestServer();
    folder = tempDir('nb-trust');
    await writeSeedFiles(folder);
  });

  after(async () => {
    await server.close();
  });

  const held = async () =>
    (await localClient(server).searchForInstances({}, { studyInstanceUid: STUDY })).items.length;

  it('reads and sends nothing while the workspace is untrusted, and says why', async () => {
    const run = new NotebookRun(folder, {}, undefined, undefined, () => false);
    const cells = [
      UPLOAD,
      CURL_UPLOAD,
      `GET /studies/${STUDY}/metadata`,
      `DELETE /studies/${STUDY}`,
      // A file that does not exist: refused for trust, not for the missing file (never read).
      `POST /studies\n\n< ${join(folder, 'missing.dcm')}`,
    ];
    for (const text of cells) {
      const result = await run.runCell(localClient(server), text);
      assert.equal(result.ok, false, text);
      assert.equal(result.answer, undefined, `${text}: no answer, nothing sent`);
      assert.deepEqual(
        result.outputs.map((output) => output.mime),
        ['text/html'],
      );
      assert.ok(result.outputs[0].data.includes(RESTRICTED_MODE), result.outputs[0].data);
    }
    assert.equal(await held(), 0, 'the server was sent no instance');
  });

  it('runs the same cells once the workspace is trusted (trust is asked at every cell)', async () => {
    let trusted = false;
    const run = new NotebookRun(folder, {}, undefined, undefined, () => trusted);
    assert.equal((await run.runCell(localClient(server), UPLOAD)).ok, false);
    assert.equal(await held(), 0);
    trusted = true;
    const stored = await run.runCell(localClient(server), UPLOAD);
    assert.equal(stored.ok, true, stored.outputs[0]?.data);
    assert.equal(stored.answer?.store?.stored, 1);
    assert.equal((await run.runCell(localClient(server), CURL_UPLOAD)).answer?.store?.stored, 1);
    assert.equal(await held(), 2);
  });
});
