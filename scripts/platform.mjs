// What `npm start` and `npm test` need to know about the machine they run on, kept pure so
// the unit tests cover every platform's branch on any one machine (test/unit/platform.test.ts).
import { existsSync, statSync } from 'node:fs';
import { delimiter as hostDelimiter, join } from 'node:path';

/**
 * The full path of a command found on PATH, or undefined; like `command -v` on POSIX and
 * `where` on Windows (PATHEXT: `code` is `code.cmd` there). No shell is started.
 */
export function findOnPath(
  command,
  { platform = process.platform, env = process.env, exists = isFile } = {},
) {
  const windows = platform === 'win32';
  const delimiter = windows ? ';' : platform === process.platform ? hostDelimiter : ':';
  const pathValue = (windows ? (env.Path ?? env.PATH) : env.PATH) ?? '';
  const extensions = windows
    ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)
    : [''];
  for (const dir of pathValue.split(delimiter).filter(Boolean)) {
    for (const extension of extensions) {
      const candidate = windows
        ? `${dir.replace(/[\\/]+$/, '')}\\${command}${extension.toLowerCase()}`
        : join(dir, command);
      if (exists(candidate)) return candidate;
    }
  }
  return undefined;
}

function isFile(path) {
  try {
    return existsSync(path) && statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Windows runs `code.cmd` and `npm.cmd` only through a shell. */
export function needsShell(path, platform = process.platform) {
  return platform === 'win32' && /\.(cmd|bat)$/i.test(path);
}

/** One word for cmd.exe: in double quotes (a path's spaces), inner quotes doubled. */
export function quoteForCmd(word) {
  return `"${String(word).replace(/"/g, '""')}"`;
}

/**
 * Where code-server (the browser VS Code the tests and `npm start --browser` use) can be set up.
 */
export function codeServerSupported(platform = process.platform, arch = process.arch) {
  return platform === 'linux' && arch === 'x64';
}

/** The one sentence `npm start` prints when it can open neither VS Code. */
export function noVsCodeHint(platform = process.platform, arch = process.arch) {
  const addCode =
    platform === 'darwin'
      ? "in VS Code run 'Shell Command: Install 'code' command in PATH'"
      : platform === 'win32'
        ? "reinstall VS Code with 'Add to PATH' ticked, or add its bin folder to PATH"
        : "install VS Code so its 'code' command is on the PATH";
  return `No desktop VS Code was found (its 'code' command is not on the PATH) and the browser VS Code (code-server) can only be set up here on linux-x64, not ${platform}-${arch}: ${addCode}, then run npm start again.`;
}

// ---------------------------------------------------------------------------------------
// npm test outside Debian: which parts need what, and the Orthanc a contributor runs
// (README, "Tests on other systems").

/** Where the README explains the variables below; every message below ends with it. */
export const TESTS_ELSEWHERE = 'README, "Tests on other systems"';

/**
 * An Orthanc the contributor runs (e.g. the orthancteam/orthanc Docker image): open, and one with
 * HTTP basic auth.
 */
export const ORTHANC_VARIABLES = Object.freeze({
  url: 'DICOMWEB_ORTHANC_URL',
  authUrl: 'DICOMWEB_ORTHANC_AUTH_URL',
  user: 'DICOMWEB_ORTHANC_AUTH_USER',
  password: 'DICOMWEB_ORTHANC_AUTH_PASSWORD',
});

/** The suites that talk to a real Orthanc (unit and server need none). */
export const ORTHANC_SUITES = Object.freeze(['client', 'vscode', 'ui']);

/**
 * Orthanc's REST root and DICOMweb root from what a contributor typed: the REST root
 * (`http://localhost:8042`) or the DICOMweb root (`…/dicom-web`, the plugin's default
 * `DicomWeb.Root`) both work. Returns `{ error }` with a sentence when it is not usable.
 */
export function orthancUrls(value, variable) {
  let url;
  try {
    url = new URL(value);
  } catch {
    return {
      error: `${variable}=${value} is not a URL: give the Orthanc's root, e.g. http://localhost:8042 (${TESTS_ELSEWHERE}).`,
    };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      error: `${variable}=${value} is not an http(s) URL: give the Orthanc's root, e.g. http://localhost:8042 (${TESTS_ELSEWHERE}).`,
    };
  }
  if (url.username || url.password) {
    return {
      error: `${variable} carries a user name or password: put them in ${ORTHANC_VARIABLES.user} and ${ORTHANC_VARIABLES.password} instead (${TESTS_ELSEWHERE}).`,
    };
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/dicom-web$/, '');
  const restUrl = `${url.origin}${path}`;
  return { restUrl, dicomWebUrl: `${restUrl}/dicom-web` };
}

/**
 * Where `npm test` gets its two Orthancs (an open one and one with HTTP basic auth):
 * - `given`: the contributor's own, from ORTHANC_VARIABLES; nothing is installed or started;
 * - `start`: Debian's Orthanc is installed, two are started on 127.0.0.1 (CI);
 * - `install`: apt-get installs it first, as root or through sudo;
 * - `unavailable`: a sentence saying why and what to do.
 * The basic-auth tests (a wrong password is refused, a right one accepted) need the second
 * Orthanc: a given open one without a given secured one is refused, not half-run.
 */
export function orthancSource({ env, orthancInstalled, aptGet, root, sudo }) {
  const v = ORTHANC_VARIABLES;
  const url = env[v.url];
  const authUrl = env[v.authUrl];
  if (url || authUrl) {
    if (!url || !authUrl) {
      return {
        kind: 'unavailable',
        message: `${url ? v.url : v.authUrl} is set but not ${url ? v.authUrl : v.url}: the tests need two Orthancs, one open and one with HTTP basic auth (its ${v.user} and ${v.password} too), so set all of them (${TESTS_ELSEWHERE}).`,
      };
    }
    if (!env[v.user] || !env[v.password]) {
      return {
        kind: 'unavailable',
        message: `${v.authUrl} is set without ${v.user} and ${v.password}: give the basic-auth Orthanc's user and password (${TESTS_ELSEWHERE}).`,
      };
    }
    const open = orthancUrls(url, v.url);
    if (open.error) return { kind: 'unavailable', message: open.error };
    const secured = orthancUrls(authUrl, v.authUrl);
    if (secured.error) return { kind: 'unavailable', message: secured.error };
    if (open.restUrl === secured.restUrl) {
      return {
        kind: 'unavailable',
        message: `${v.url} and ${v.authUrl} name the same Orthanc: the tests need two, one open and one that refuses requests without the password (${TESTS_ELSEWHERE}).`,
      };
    }
    return {
      kind: 'given',
      open,
      secured: { ...secured, username: env[v.user], password: env[v.password] },
    };
  }
  if (orthancInstalled) return { kind: 'start' };
  if (aptGet && root) return { kind: 'install', via: 'root' };
  if (aptGet && sudo) return { kind: 'install', via: 'sudo' };
  const yourOwn = `set ${v.url} and ${v.authUrl} (with ${v.user} and ${v.password}) to two Orthancs you run yourself, e.g. with Docker (${TESTS_ELSEWHERE})`;
  if (aptGet) {
    return {
      kind: 'unavailable',
      message: `Orthanc is not installed and this user can neither install it nor use sudo: run \`apt-get install orthanc orthanc-dicomweb\` as root once, or ${yourOwn}.`,
    };
  }
  return {
    kind: 'unavailable',
    message: `The ${ORTHANC_SUITES.join(', ')} suites talk to a real Orthanc, which npm test installs only on Debian or Ubuntu (apt-get was not found here): ${yourOwn}, or run npm test -- --only unit,server.`,
  };
}

/**
 * The sentence for an apt-get (or sudo apt-get) that did not succeed. `status` null with
 * ENOENT means the program is missing: not Debian, or no sudo.
 * @param {{ args: string[], packages: string[], purpose: string, otherwise: string, viaSudo?: boolean, result: { status: number | null, signal?: string | null, error?: { code?: string } } }} input
 */
export function aptFailureMessage({ args, packages, purpose, otherwise, viaSudo = false, result }) {
  const what = `installing ${packages.join(', ')} for ${purpose}`;
  const missing = result.error?.code === 'ENOENT' || (result.status === null && !result.signal);
  if (missing && viaSudo) {
    return `sudo was not found: ${what} needs root, so run \`apt-get ${args.join(' ')}\` as root once; or ${otherwise}.`;
  }
  if (missing)
    return `apt-get was not found: this step (${what}) needs Debian or Ubuntu; on other systems ${otherwise}.`;
  const ended =
    result.status === null ? `was stopped by ${result.signal}` : `exited with ${result.status}`;
  return `apt-get ${args.join(' ')} ${ended} while ${what}: see apt's output above; or ${otherwise}.`;
}

/** What a code-server suite needs where code-server cannot be set up (not linux-x64). */
export function codeServerUnsupportedMessage(platform = process.platform, arch = process.arch) {
  return `code-server (the browser VS Code the vscode and ui suites run in) can only be set up on linux-x64, not ${platform}-${arch}: run the integration suite in desktop VS Code with DICOMWEB_USE_DESKTOP_VSCODE=1 npm test -- --only vscode; the ui suite runs on linux-x64 only (CI).`;
}

/**
 * The suites this machine cannot run, each with its sentence: `ui` needs code-server
 * (linux-x64); `vscode` too unless desktop VS Code is chosen (test/vscode/runIntegration.ts).
 */
export function impossibleSuites(
  suites,
  { platform = process.platform, arch = process.arch, env = process.env } = {},
) {
  if (codeServerSupported(platform, arch)) return [];
  const desktop =
    env.DICOMWEB_USE_DESKTOP_VSCODE === '1' || Boolean(env.DICOMWEB_VSCODE_EXECUTABLE);
  return suites
    .filter((suite) => suite === 'ui' || (suite === 'vscode' && !desktop))
    .map((suite) => ({ suite, message: codeServerUnsupportedMessage(platform, arch) }));
}

/**
 * The sentence for a Node too old for the tests and the benchmark where the Node 24 download
 * (linux-x64) cannot help.
 */
export function oldNodeMessage(version, platform = process.platform, arch = process.arch) {
  return `This Node is ${version} and the tests and the benchmark need Node 22.19 or later (undici 8), which npm test and npm run bench fetch by themselves only on linux-x64, not ${platform}-${arch}: install Node 22.19+ (e.g. from nodejs.org) and run the command again.`;
}
