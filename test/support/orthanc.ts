/**
 * Starts a real Orthanc (Debian's `orthanc` + `orthanc-dicomweb`) as a child process on
 * 127.0.0.1 with the project's own configuration and a temporary storage folder, and
 * stops it by PID. Used by `npm test` and `npm run bench`; never by the extension.
 *
 * Orthanc 1.10 has no bind-address option: it listens on every interface, and
 * `RemoteAccessAllowed: false` refuses non-loopback clients. We only ever talk to
 * 127.0.0.1 (see ../shared/docs/orthanc.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  closeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ORTHANC_BINARY = '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancOptions {
  /** Name used in logs and the temp folder. */
  name?: string;
  /** Port to listen on; a free one is chosen when absent. */
  port?: number;
  /** Enables HTTP basic authentication with this single user. */
  basicAuth?: { username: string; password: string };
}

export interface OrthancInstance {
  name: string;
  port: number;
  pid: number;
  /** Orthanc's own REST API root, e.g. `http://127.0.0.1:8042`. */
  restUrl: string;
  /** The DICOMweb base URL, e.g. `http://127.0.0.1:8042/dicom-web`. */
  dicomWebUrl: string;
  basicAuth?: { username: string; password: string };
  /** Folder holding config, storage and the log. Removed by `stop()`. */
  workDir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function orthancInstalled(): boolean {
  return existsSync(ORTHANC_BINARY) && existsSync(DICOMWEB_PLUGIN);
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<OrthancInstance> {
  if (!orthancInstalled()) {
    throw new Error(
      `Orthanc is not installed (${ORTHANC_BINARY}, ${DICOMWEB_PLUGIN}). ` +
        'Run `npm test` as root once, or `apt-get install orthanc orthanc-dicomweb`, or point DICOMWEB_ORTHANC_URL and ' +
        'DICOMWEB_ORTHANC_AUTH_URL at Orthancs you run yourself (README, "Tests on other systems").',
    );
  }
  const name = options.name ?? 'orthanc';
  const port = options.port ?? (await freePort());
  const workDir = mkdtempSync(join(tmpdir(), `dicomweb-explorer-${name}-`));
  const logFile = join(workDir, 'orthanc.log');
  const config = {
    Name: `dicomweb-explorer-${name}`,
    StorageDirectory: join(workDir, 'storage'),
    IndexDirectory: join(workDir, 'index'),
    HttpPort: port,
    RemoteAccessAllowed: false,
    HttpDescribeErrors: true,
    HttpCompressionEnabled: false,
    KeepAlive: true,
    TcpNoDelay: true,
    DicomServerEnabled: false,
    StorageCompression: false,
    // Tests and benchmarks store thousands of instances; no need to wait for "stable".
    StableAge: 1,
    AuthenticationEnabled: options.basicAuth !== undefined,
    RegisteredUsers: options.basicAuth
      ? { [options.basicAuth.username]: options.basicAuth.password }
      : {},
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: {
      Enable: true,
      Root: '/dicom-web/',
      EnableWado: false,
      StudiesMetadata: 'Full',
      SeriesMetadata: 'Full',
    },
  };
  const configFile = join(workDir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  const logFd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(ORTHANC_BINARY, [configFile], {
    stdio: ['ignore', logFd, logFd],
    detached: false,
  });
  closeSync(logFd);
  if (child.pid === undefined) throw new Error(`Orthanc (${name}) did not start`);
  const pid = child.pid;
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });

  const restUrl = `http://127.0.0.1:${port}`;
  const authHeader = options.basicAuth
    ? 'Basic ' +
      Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')
    : undefined;

  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const deadline = Date.now() + 10_000;
      while (!exited && Date.now() < deadline) await delay(50);
      if (!exited) child.kill('SIGKILL');
    }
    rmSync(workDir, { recursive: true, force: true });
  };

  // Orthanc answers its first request ~60-140 ms after start; allow 30 s on a loaded CI box.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      const log = safeRead(logFile);
      rmSync(workDir, { recursive: true, force: true });
      throw new Error(`Orthanc (${name}) exited during startup. Log:\n${log.slice(-4000)}`);
    }
    try {
      const response = await fetch(`${restUrl}/system`, {
        headers: authHeader ? { authorization: authHeader } : {},
      });
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Orthanc (${name}) did not answer on ${restUrl} within 30 s`);
    }
    await delay(50);
  }

  return {
    name,
    port,
    pid,
    restUrl,
    dicomWebUrl: `${restUrl}/dicom-web`,
    basicAuth: options.basicAuth,
    workDir,
    logFile,
    stop,
  };
}

/** Deletes every patient (and so everything) an Orthanc holds, through its REST API. */
export async function clearOrthanc(
  instance: Pick<OrthancInstance, 'restUrl' | 'basicAuth'>,
): Promise<void> {
  const headers: Record<string, string> = {};
  if (instance.basicAuth) {
    headers.authorization =
      'Basic ' +
      Buffer.from(`${instance.basicAuth.username}:${instance.basicAuth.password}`).toString(
        'base64',
      );
  }
  const response = await fetch(`${instance.restUrl}/patients`, { headers });
  const ids = (await response.json()) as string[];
  for (const id of ids) {
    const deleted = await fetch(`${instance.restUrl}/patients/${id}`, {
      method: 'DELETE',
      headers,
    });
    await deleted.arrayBuffer();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * An Orthanc the contributor runs (README, "Tests on other systems"): checked, never started or
 * stopped here.
 */
export interface ExistingOrthanc {
  restUrl: string;
  dicomWebUrl: string;
  basicAuth?: { username: string; password: string };
  /** Patients it held before the tests (the tests delete everything it holds). */
  patients: number;
}

/**
 * Checks that an Orthanc given through DICOMWEB_ORTHANC_URL (or, with `basicAuth`,
 * DICOMWEB_ORTHANC_AUTH_URL) is what the tests need, so a wrong setup fails here with one
 * sentence instead of as dozens of failed tests: it answers; the open one takes requests
 * without a password and the secured one refuses them (the auth tests check that refusal);
 * the DICOMweb plugin answers under /dicom-web.
 */
export async function checkExistingOrthanc(
  target: {
    restUrl: string;
    dicomWebUrl: string;
    basicAuth?: { username: string; password: string };
  },
  variable: string,
): Promise<ExistingOrthanc> {
  const authorization = target.basicAuth
    ? 'Basic ' +
      Buffer.from(`${target.basicAuth.username}:${target.basicAuth.password}`).toString('base64')
    : undefined;
  const get = async (url: string, withAuth: boolean): Promise<{ status: number; body: string }> => {
    try {
      const response = await fetch(url, {
        headers: withAuth && authorization ? { authorization } : {},
        signal: AbortSignal.timeout(10_000),
      });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      throw new Error(
        `${variable}: nothing answers at ${url} (${(error as Error).cause ?? (error as Error).message}); is that Orthanc running and its port published?`,
      );
    }
  };
  const anonymous = await get(`${target.restUrl}/system`, false);
  if (target.basicAuth) {
    if (anonymous.status !== 401) {
      throw new Error(
        `${variable}: ${target.restUrl}/system answered HTTP ${anonymous.status} without a password; the basic-auth tests need an Orthanc that refuses it (AuthenticationEnabled: true).`,
      );
    }
    const signedIn = await get(`${target.restUrl}/system`, true);
    if (signedIn.status !== 200) {
      throw new Error(
        `${variable}: ${target.restUrl}/system answered HTTP ${signedIn.status} to the given user and password; check DICOMWEB_ORTHANC_AUTH_USER and DICOMWEB_ORTHANC_AUTH_PASSWORD (its RegisteredUsers).`,
      );
    }
  } else if (anonymous.status !== 200) {
    const why =
      anonymous.status === 401
        ? 'it asks for a password, and this one must be open (AuthenticationEnabled: false)'
        : anonymous.status === 403
          ? 'it refuses this machine (RemoteAccessAllowed: true)'
          : 'expected 200';
    throw new Error(
      `${variable}: ${target.restUrl}/system answered HTTP ${anonymous.status}: ${why}.`,
    );
  }
  const studies = await get(`${target.dicomWebUrl}/studies?limit=1`, true);
  if (studies.status !== 200 && studies.status !== 204) {
    throw new Error(
      `${variable}: ${target.dicomWebUrl}/studies answered HTTP ${studies.status}: the DICOMweb plugin must be enabled with its Root at /dicom-web/.`,
    );
  }
  const statistics = await get(`${target.restUrl}/statistics`, true);
  const patients =
    statistics.status === 200
      ? Number((JSON.parse(statistics.body) as { CountPatients?: number }).CountPatients ?? 0)
      : 0;
  return { ...target, patients };
}
