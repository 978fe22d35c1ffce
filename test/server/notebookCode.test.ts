/**
 * The JavaScript a request is copied as (src/notebook/codeJavaScript.ts) runs as printed,
 * with the npm `dicomweb-client` over test/support/nodeXhr.ts, against the real local
 * server, and answers what the project's own client answers for the same request. The only
 * edit made to a snippet is the one its user makes: the credential placeholder becomes the
 * server's token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearerAuth, DicomWebClient } from '../../src/dicomweb';
import { TOKEN_PLACEHOLDER } from '../../src/dicomweb/curl';
import {
  deleteRequest,
  framesRequest,
  metadataRequest,
  searchRequest,
  storeRequest,
  type RequestSpec,
} from '../../src/dicomweb/requests';
import { toJavaScript } from '../../src/notebook/codeJavaScript';
import type { LocalServer } from '../../src/server';
import { installNodeXhr } from '../support/nodeXhr';
import { SEED, writeSeedFiles } from '../support/seedData';
import { startTestServer, tempDir } from './helpers';

const TOKEN = 'code-s3cret-token';
const STUDY = SEED.studyInstanceUid;
const RED = {
  studyInstanceUid: STUDY,
  seriesInstanceUid: SEED.redTriangle.seriesInstanceUid,
  sopInstanceUid: SEED.redTriangle.sopInstanceUid,
};

/** Runs a printed CommonJS snippet; resolves with what it logs first. */
function run(code: string): Promise<unknown[]> {
  const edited = code.split(TOKEN_PLACEHOLDER).join(TOKEN);
  return new Promise((resolve, reject) => {
    const fakeConsole = {
      log: (...args: unknown[]) => resolve(args),
      error: (message: unknown) => reject(new Error(`${String(message)} from:\n${edited}`)),
    };
    const script = new Function('require', 'console', 'fetch', edited) as (
      ...args: unknown[]
    ) => void;
    try {
      script(require, fakeConsole, fetch);
    } catch (error) {
      reject(error);
    }
    setTimeout(() => reject(new Error(`no answer from:\n${edited}`)), 10_000).unref();
  });
}

describe('requests copied as JavaScript (dicomweb-client) run against the local server', () => {
  let server: LocalServer;
  let client: DicomWebClient;
  let baseUrl: string;
  let files: string[];
  const print = (spec: RequestSpec) => toJavaScript(spec, { baseUrl, authKind: 'bearer' });

  before(async () => {
    installNodeXhr();
    server = await startTestServer({ token: TOKEN });
    baseUrl = `${server.url}/v2`;
    client = new DicomWebClient({
      baseUrl,
      serverKind: 'local',
      auth: bearerAuth(async () => TOKEN),
    });
    files = await writeSeedFiles(tempDir('code'));
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it('prints the placeholder, never the token, and stores the seed files', async () => {
    const code = print(storeRequest(files));
    assert.ok(code.includes(TOKEN_PLACEHOLDER) && !code.includes(TOKEN));
    assert.deepEqual(await run(code), ['stored', 3]);
    const stored = await client.searchForInstances({ match: { StudyInstanceUID: STUDY } });
    assert.equal(stored.items.length, 3);
  });

  it('searches at every level as the client does', async () => {
    const cases: Array<[RequestSpec, () => Promise<{ items: unknown[] }>]> = [
      [searchRequest('studies', {}, { limit: 10 }), () => client.searchForStudies({ limit: 10 })],
      [
        searchRequest('series', { studyInstanceUid: STUDY }),
        () => client.searchForSeries({}, { studyInstanceUid: STUDY }),
      ],
      [
        searchRequest('instances', {}, { match: { SOPInstanceUID: RED.sopInstanceUid } }),
        () => client.searchForInstances({ match: { SOPInstanceUID: RED.sopInstanceUid } }),
      ],
    ];
    for (const [spec, expected] of cases) {
      const [printed] = await run(print(spec));
      assert.deepEqual(JSON.parse(printed as string), (await expected()).items, spec.path);
    }
  });

  it('retrieves metadata and frames as the client does', async () => {
    const [metadata] = await run(print(metadataRequest({ studyInstanceUid: STUDY })));
    assert.deepEqual(JSON.parse(metadata as string), await client.retrieveStudyMetadata(STUDY));
    const [frames] = await run(
      print(framesRequest(RED, [1], { transferSyntax: '1.2.840.10008.1.2.1' })),
    );
    const expected = await client.retrieveInstanceFrames(RED, [1]);
    assert.deepEqual(
      frames,
      expected.map((frame) => frame.data.byteLength),
    );
  });

  it('deletes with fetch (the library has no delete call), as the client would', async () => {
    const [status] = await run(print(deleteRequest(RED)));
    assert.ok((status as number) >= 200 && (status as number) < 300, String(status));
    const left = await client.searchForInstances({ match: { StudyInstanceUID: STUDY } });
    assert.equal(left.items.length, 2);
  });
});
