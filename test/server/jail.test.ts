/**
 * The served folder is a jail (issue 10, finding 1): links out of it are neither listed,
 * served, written through nor deleted through — after the start-up scan, while running (the
 * watcher), when a file is swapped for a link after it was indexed, and when the index itself
 * names a path outside (scanOnStart: false). A canary folder beside the served one is hashed
 * before and after each case. And finding 6: a UID with a NUL inside is refused, not merged.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LocalServer } from '../../src/server';
import { Catalog } from '../../src/server/catalog';
import { STATE_DIR } from '../../src/server/storage';
import {
  multipart,
  rawRequest,
  smallInstance,
  startTestServer,
  stowOutcome,
  tempDir,
} from './helpers';

/** Every name, link target and byte below `dir`, hashed (lstat: links are hashed as links). */
async function hashTree(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const visit = async (path: string, rel: string): Promise<void> => {
    const info = await lstat(path);
    if (info.isSymbolicLink()) hash.update(`L ${rel} -> ${await readlink(path)}\n`);
    else if (info.isDirectory()) {
      hash.update(`D ${rel}\n`);
      for (const name of (await readdir(path)).sort())
        await visit(join(path, name), `${rel}/${name}`);
    } else
      hash
        .update(`F ${rel} `)
        .update(await readFile(path))
        .update('\n');
  };
  await visit(dir, '');
  return hash.digest('hex');
}

async function waitFor(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const CANARY_NAME = 'CANARY^SECRET';

/** A served folder and, beside it, a canary folder holding DICOM files that must stay untouched. */
async function layout(name: string): Promise<{
  root: string;
  outside: string;
  canary: ReturnType<typeof smallInstance>;
  hash: () => Promise<string>;
}> {
  const base = tempDir(`jail-${name}`);
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await mkdir(root, { recursive: true });
  await mkdir(join(outside, 'folder'), { recursive: true });
  const canary = smallInstance(`canary-${name}`, { patientName: CANARY_NAME });
  await writeFile(join(outside, 'secret.dcm'), canary.bytes);
  // Three instances of one study in a folder, for the linked-folder cases.
  for (let i = 0; i < 3; i++) {
    const part = smallInstance(`canary-${name}-folder-${i}`, {
      studyUid: `${canary.params.studyUid}.9`,
      seriesUid: `${canary.params.seriesUid}.9`,
      patientName: CANARY_NAME,
    });
    await writeFile(join(outside, 'folder', `${i}.dcm`), part.bytes);
  }
  return { root, outside, canary, hash: () => hashTree(outside) };
}

const accept = { accept: 'application/dicom+json' };

async function studyListed(server: LocalServer, studyUid: string): Promise<boolean> {
  const response = await rawRequest(
    server,
    'GET',
    `/v2/studies?StudyInstanceUID=${studyUid}`,
    accept,
  );
  assert.ok(response.status === 200 || response.status === 204, response.text);
  return response.status === 200;
}

/** Everything QIDO lists at instance level, as text (the canary's name must not be in it). */
async function allInstancesText(server: LocalServer): Promise<string> {
  const response = await rawRequest(
    server,
    'GET',
    '/v2/instances?includefield=PatientName',
    accept,
  );
  return response.status === 204 ? '' : response.text;
}

async function stow(server: LocalServer, ...bodies: Buffer[]) {
  const response = await rawRequest(
    server,
    'POST',
    '/v2/studies',
    { 'content-type': 'multipart/related; type="application/dicom"; boundary=jj', ...accept },
    multipart(
      'jj',
      bodies.map((body) => ({ body })),
    ),
  );
  return { status: response.status, ...stowOutcome(response.json()) };
}

/** Every way of reading an instance's bytes; none may carry the canary's. */
async function retrieveAll(
  server: LocalServer,
  p: { studyUid: string; seriesUid: string; sopInstanceUid: string },
): Promise<Array<{ status: number; body: Buffer }>> {
  const instance = `/v2/studies/${p.studyUid}/series/${p.seriesUid}/instances/${p.sopInstanceUid}`;
  const asked: Array<[string, Record<string, string>]> = [
    [instance, { accept: 'application/dicom; transfer-syntax=*' }],
    [instance, { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' }],
    [
      `/v2/studies/${p.studyUid}`,
      { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    ],
    [`${instance}/metadata`, accept],
    [
      `${instance}/frames/1`,
      { accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' },
    ],
    [`${instance}/bulkdata/7FE00010`, { accept: 'application/octet-stream' }],
  ];
  const out: Array<{ status: number; body: Buffer }> = [];
  for (const [path, headers] of asked) {
    out.push(
      await rawRequest(server, 'GET', path, headers).then(
        (r) => ({ status: r.status, body: r.body }),
        // A refusal found after the headers went out ends the answer early: nothing served.
        () => ({ status: 0, body: Buffer.alloc(0) }),
      ),
    );
  }
  return out;
}

function assertNoCanary(
  responses: Array<{ status: number; body: Buffer }>,
  canary: Buffer,
  label: string,
): void {
  for (const [i, response] of responses.entries()) {
    assert.ok(
      !response.body.includes(Buffer.from(CANARY_NAME)),
      `${label}: answer ${i} (status ${response.status}) carries the canary's name`,
    );
    assert.ok(
      !response.body.includes(canary.subarray(132, 400)),
      `${label}: answer ${i} (status ${response.status}) carries the canary's bytes`,
    );
  }
}

describe('the served folder is a jail (issue 10, finding 1)', () => {
  it('a file linking outside is neither listed nor served: at start (scan) and when added while running (watcher)', async () => {
    const { root, outside, canary, hash } = await layout('file');
    const before = await hash();
    await symlink(join(outside, 'secret.dcm'), join(root, 'x.dcm'));
    await symlink('../outside/secret.dcm', join(root, 'relative.dcm'));
    const server = await startTestServer({ dir: root });
    try {
      assert.equal(
        await studyListed(server, canary.params.studyUid),
        false,
        'listed after the start-up scan',
      );
      assert.equal(server.stats().instances, 0);

      // While running: a link to the canary, then a real file; once the real one is indexed
      // the watcher has handled the link too.
      await symlink(join(outside, 'secret.dcm'), join(root, 'later.dcm'));
      const real = smallInstance('jail-file-real');
      await writeFile(join(root, 'real.dcm'), real.bytes);
      await waitFor('the real file to be indexed', () => studyListed(server, real.params.studyUid));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(
        await studyListed(server, canary.params.studyUid),
        false,
        'listed after the watcher saw the link',
      );
      assert.ok(!(await allInstancesText(server)).includes(CANARY_NAME));
      const served = await retrieveAll(server, canary.params);
      assert.ok(
        served.every((r) => r.status === 404 || r.status === 0),
        `statuses ${served.map((r) => r.status).join(',')}`,
      );
      assertNoCanary(served, canary.bytes, 'linked file');
    } finally {
      await server.close();
    }
    assert.equal(await hash(), before, 'the canary folder changed');
  });

  it('a linked folder is not indexed (scan or watcher) and DELETE of its study touches nothing outside', async () => {
    const { root, outside, canary, hash } = await layout('folder');
    const before = await hash();
    const folderStudy = `${canary.params.studyUid}.9`;
    await symlink(join(outside, 'folder'), join(root, 'linked-at-start'));
    const server = await startTestServer({ dir: root });
    try {
      assert.equal(await studyListed(server, folderStudy), false, 'indexed by the scan');
      await symlink(join(outside, 'folder'), join(root, 'linked-later'));
      const real = smallInstance('jail-folder-real');
      await mkdir(join(root, 'real'));
      await writeFile(join(root, 'real', 'a.dcm'), real.bytes);
      await waitFor('the real file to be indexed', () => studyListed(server, real.params.studyUid));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(await studyListed(server, folderStudy), false, 'indexed by the watcher');
      const deleted = await rawRequest(server, 'DELETE', `/v2/studies/${folderStudy}`);
      assert.equal(deleted.status, 404, deleted.text);
    } finally {
      await server.close();
    }
    assert.equal(await hash(), before, 'the canary folder changed');
    assert.equal((await readdir(join(outside, 'folder'))).length, 3);
  });

  it('a study folder replaced by a link does not make a STOW write outside', async () => {
    const { root, outside, hash } = await layout('stow');
    const first = smallInstance('jail-stow-1');
    const server = await startTestServer({ dir: root });
    try {
      assert.equal((await stow(server, first.bytes)).status, 200);
      const studyFolder = join(root, first.params.studyUid);
      assert.ok((await lstat(studyFolder)).isDirectory());
      // The study folder goes; a link to an empty folder outside takes its name.
      await mkdir(join(outside, 'target'));
      const before = await hash();
      await rename(studyFolder, join(root, 'moved-away'));
      await symlink(join(outside, 'target'), studyFolder);
      const second = smallInstance('jail-stow-2', {
        studyUid: first.params.studyUid,
        seriesUid: first.params.seriesUid,
      });
      const outcome = await stow(server, second.bytes);
      assert.deepEqual(outcome.stored, [], 'stored through the link');
      assert.equal(outcome.status, 409);
      assert.equal(await hash(), before, 'the canary folder changed');
      assert.deepEqual(await readdir(join(outside, 'target')), []);
    } finally {
      await server.close();
    }
  });

  it('an indexed file swapped for a link to a file outside is not served (20 immediate retrieves)', async () => {
    const { root, outside, canary, hash } = await layout('swap');
    const before = await hash();
    const stored = smallInstance('jail-swap');
    // No watcher: the index keeps naming the file, as in the moment before the watcher reacts.
    const server = await startTestServer({ dir: root, watch: false });
    try {
      assert.equal((await stow(server, stored.bytes)).status, 200);
      const file = join(
        root,
        stored.params.studyUid,
        stored.params.seriesUid,
        `${stored.params.sopInstanceUid}.dcm`,
      );
      assert.ok((await lstat(file)).isFile());
      await rm(file);
      await symlink(join(outside, 'secret.dcm'), file);
      for (let round = 0; round < 20; round++) {
        const answers = await retrieveAll(server, stored.params);
        // The single-part retrieve and the metadata open the file before answering: a clean 404.
        assert.equal(answers[0]!.status, 404, `round ${round}: single-part retrieve`);
        assert.equal(answers[3]!.status, 404, `round ${round}: metadata`);
        assert.ok(
          answers.every((r) => r.status !== 200 || r.body.length === 0),
          `round ${round}: statuses ${answers.map((r) => r.status).join(',')}`,
        );
        assertNoCanary(answers, canary.bytes, `round ${round}`);
      }
      // And a folder on the way swapped for a link to a copy outside.
      await mkdir(join(outside, 'series-copy'));
      await writeFile(
        join(outside, 'series-copy', `${stored.params.sopInstanceUid}.dcm`),
        canary.bytes,
      );
      const seriesFolder = join(root, stored.params.studyUid, stored.params.seriesUid);
      await rm(seriesFolder, { recursive: true });
      await symlink(join(outside, 'series-copy'), seriesFolder);
      const viaFolder = await retrieveAll(server, stored.params);
      assertNoCanary(viaFolder, canary.bytes, 'through a linked folder');
      const deleted = await rawRequest(server, 'DELETE', `/v2/studies/${stored.params.studyUid}`);
      assert.equal(deleted.status, 204, 'the entry itself is deleted');
      assert.deepEqual(
        await readdir(join(outside, 'series-copy')),
        [`${stored.params.sopInstanceUid}.dcm`],
        'deleted through the linked folder',
      );
      await rm(join(outside, 'series-copy'), { recursive: true });
    } finally {
      await server.close();
    }
    assert.equal(await hash(), before, 'the canary folder changed');
  });

  it('with scanOnStart: false an index entry naming ../outside or an absolute path is neither served nor deleted', async () => {
    const { root, outside, canary, hash } = await layout('index');
    const second = smallInstance('jail-index-abs', { patientName: CANARY_NAME });
    await writeFile(join(outside, 'absolute.dcm'), second.bytes);
    const before = await hash();
    const catalog = new Catalog();
    const entry = (p: typeof canary.params, file: string) => ({
      studyUid: p.studyUid,
      seriesUid: p.seriesUid,
      sopUid: p.sopInstanceUid,
      file,
      size: canary.bytes.length,
      mtimeMs: 0,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      study: { '00100010': CANARY_NAME },
      series: {},
      instance: {},
    });
    assert.equal(catalog.add(entry(canary.params, '../outside/secret.dcm')).kind, 'added');
    assert.equal(catalog.add(entry(second.params, join(outside, 'absolute.dcm'))).kind, 'added');
    await mkdir(join(root, STATE_DIR), { recursive: true });
    await writeFile(join(root, STATE_DIR, 'index.json'), catalog.toJson());
    const server = await startTestServer({ dir: root, scanOnStart: false });
    try {
      for (const p of [canary.params, second.params]) {
        assert.equal(await studyListed(server, p.studyUid), false, 'listed from the index');
        assertNoCanary(await retrieveAll(server, p), canary.bytes, 'index entry');
        const deleted = await rawRequest(server, 'DELETE', `/v2/studies/${p.studyUid}`);
        assert.equal(deleted.status, 404, deleted.text);
      }
    } finally {
      await server.close();
    }
    assert.equal(await hash(), before, 'the canary folder changed');
  });
});

describe("the server's own folder (.dicomweb) is no way out either", () => {
  it('a .dicomweb that links outside stops the start instead of emptying or writing there', async () => {
    const { root, outside, hash } = await layout('state');
    await mkdir(join(outside, 'state', 'tmp'), { recursive: true });
    await writeFile(
      join(outside, 'state', 'tmp', 'keep.part'),
      'the emptying of tmp must not reach this',
    );
    await symlink(join(outside, 'state'), join(root, STATE_DIR));
    const before = await hash();
    await assert.rejects(startTestServer({ dir: root }), /symbolic link/);
    assert.equal(await hash(), before, 'the canary folder changed');
  });
});

describe('a served folder that does not exist yet', () => {
  it('is created at start, parents included, and serves and stores as usual', async () => {
    const root = join(tempDir('jail-missing-root'), 'not', 'yet', 'there');
    const server = await startTestServer({ dir: root });
    try {
      assert.ok((await lstat(root)).isDirectory());
      const instance = smallInstance('jail-missing-root');
      assert.equal((await stow(server, instance.bytes)).status, 200);
      assert.equal(await studyListed(server, instance.params.studyUid), true);
    } finally {
      await server.close();
    }
  });
});

describe("the server's temporary folder swapped for a link while it runs", () => {
  it('receives no upload outside the served folder, small or streamed to disk', async () => {
    const { root, outside, hash } = await layout('tmp-swap');
    const server = await startTestServer({ dir: root });
    try {
      const tmp = join(root, STATE_DIR, 'tmp');
      await mkdir(join(outside, 'planted-tmp'));
      await rm(tmp, { recursive: true, force: true });
      await symlink(join(outside, 'planted-tmp'), tmp);
      const before = await hash();
      // One part under the in-memory size and one that streams to a temporary file.
      const small = smallInstance('jail-tmp-small');
      const large = smallInstance('jail-tmp-large', {
        rows: 1024,
        columns: 1024,
        pixelData: new Uint8Array(1024 * 1024),
      });
      const outcome = await stow(server, small.bytes, large.bytes).catch(() => ({
        status: 0,
        stored: [] as string[],
      }));
      assert.deepEqual(outcome.stored, [], 'stored through the planted temporary folder');
      assert.deepEqual(
        await readdir(join(outside, 'planted-tmp')),
        [],
        'an upload was written outside',
      );
      assert.equal(await hash(), before, 'the canary folder changed');
    } finally {
      await server.close();
    }
  });
});

describe('a UID with a NUL inside it (issue 10, finding 6)', () => {
  const base = smallInstance('nul-uid');
  const withNul = smallInstance('nul-uid-2', {
    studyUid: `${base.params.studyUid}\0.4`,
    seriesUid: `${base.params.seriesUid}.5`,
  });

  it('is refused by STOW-RS (0xA900), not cut at the NUL and merged into the shorter UID’s study', async () => {
    const server = await startTestServer();
    try {
      assert.equal((await stow(server, base.bytes)).status, 200);
      const outcome = await stow(server, withNul.bytes);
      assert.equal(outcome.status, 409);
      assert.deepEqual(
        outcome.failed.map((f) => f.reason),
        [43264],
      );
      const series = await rawRequest(
        server,
        'GET',
        `/v2/studies/${base.params.studyUid}/series`,
        accept,
      );
      assert.equal((series.json() as unknown[]).length, 1, 'a second series joined the study');
    } finally {
      await server.close();
    }
  });

  it('is skipped by the start-up scan and by the watcher', async () => {
    const dir = tempDir('nul-uid-scan');
    await writeFile(join(dir, 'a.dcm'), base.bytes);
    await writeFile(join(dir, 'b.dcm'), withNul.bytes);
    const server = await startTestServer({ dir });
    try {
      assert.equal(server.stats().instances, 1);
      const late = smallInstance('nul-uid-3', {
        studyUid: `${base.params.studyUid}\0.7`,
        seriesUid: `${base.params.seriesUid}.7`,
      });
      await writeFile(join(dir, 'c.dcm'), late.bytes);
      const real = smallInstance('nul-uid-real');
      await writeFile(join(dir, 'd.dcm'), real.bytes);
      await waitFor('the real file to be indexed', () => studyListed(server, real.params.studyUid));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(server.stats().instances, 2);
      const series = await rawRequest(
        server,
        'GET',
        `/v2/studies/${base.params.studyUid}/series`,
        accept,
      );
      assert.equal((series.json() as unknown[]).length, 1, 'a second series joined the study');
    } finally {
      await server.close();
    }
  });
});
