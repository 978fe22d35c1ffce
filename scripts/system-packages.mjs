// What npm test and npm run bench need from Debian: Orthanc with its DICOMweb plugin (the
// real server the tests talk to), curl (the tutorial's client, compared in the bench) and
// dcmtk (dcmdump, the independent reader de-identified files are checked with).
// Installed with apt when missing, as root or through sudo. Outside Debian, apt-get is
// missing and the message says what to do instead (scripts/platform.mjs, aptFailureMessage).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { aptFailureMessage, ORTHANC_VARIABLES, TESTS_ELSEWHERE } from './platform.mjs';

const NEEDED = [
  ['/usr/sbin/Orthanc', 'orthanc'],
  ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so', 'orthanc-dicomweb'],
  ['/usr/bin/curl', 'curl'],
  ['/usr/bin/dcmdump', 'dcmtk'],
];

/** What the tests and the benchmark use these packages for, and the way round apt. */
const PURPOSE =
  'the real Orthanc of the client, vscode and ui suites and the benchmark, and dcmdump of the unit suite';
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

/**
 * Installs the missing packages of NEEDED, or only those of them named in `only` (the unit
 * suite needs dcmtk alone, a contributor's own Orthanc needs no Orthanc package).
 */
export function ensureSystemPackages(log = console.log, only = undefined) {
  const missing = missingSystemPackages().filter((name) => !only || only.includes(name));
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
