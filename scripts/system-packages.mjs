// What npm test and npm run bench need from Debian: Orthanc with its DICOMweb plugin (the
// real server the tests talk to) and curl (the tutorial's client, compared in the bench).
// Installed with apt when missing, as root or through sudo. Outside Debian, apt-get is
// missing and the message says what to do instead (scripts/platform.mjs, aptFailureMessage).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { aptFailureMessage, ORTHANC_VARIABLES, TESTS_ELSEWHERE } from './platform.mjs';

const NEEDED = [
  ['/usr/sbin/Orthanc', 'orthanc'],
  ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so', 'orthanc-dicomweb'],
  ['/usr/bin/curl', 'curl'],
];

/** What the tests and the benchmark use these packages for, and the way round apt. */
const PURPOSE = 'the real Orthanc of the client, vscode and ui suites and the benchmark';
const OTHERWISE = `set ${ORTHANC_VARIABLES.url} and ${ORTHANC_VARIABLES.authUrl} to Orthancs you run yourself (${TESTS_ELSEWHERE})`;

/** The Debian packages still to install. */
export function missingSystemPackages() {
  return NEEDED.filter(([path]) => !existsSync(path)).map(([, name]) => name);
}

/** The sentence for a failed `apt-get <args>` (or `sudo apt-get <args>`) installing `packages`. */
export function systemPackagesFailure(args, packages, viaSudo, result) {
  return aptFailureMessage({
    args,
    packages,
    purpose: PURPOSE,
    otherwise: OTHERWISE,
    viaSudo,
    result,
  });
}

export function ensureSystemPackages(log = console.log) {
  const missing = missingSystemPackages();
  if (missing.length === 0) return;
  log(`=== installing ${missing.join(', ')} from Debian ===`);
  const asRoot = process.getuid?.() === 0;
  const apt = (args) => {
    const result = spawnSync(asRoot ? 'apt-get' : 'sudo', asRoot ? args : ['apt-get', ...args], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) {
      throw new Error(systemPackagesFailure(args, missing, !asRoot, result));
    }
  };
  apt(['update']);
  apt(['install', '-y', '--no-install-recommends', ...missing]);
}
