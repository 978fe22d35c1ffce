// What npm test and npm run bench need from Debian: Orthanc with its DICOMweb plugin (the
// real server the tests talk to) and curl (the tutorial's client, compared in the bench).
// Installed with apt when missing, as root or through sudo.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDED = [
  ['/usr/sbin/Orthanc', 'orthanc'],
  ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so', 'orthanc-dicomweb'],
  ['/usr/bin/curl', 'curl'],
];

export function ensureSystemPackages(log = console.log) {
  const missing = NEEDED.filter(([path]) => !existsSync(path)).map(([, name]) => name);
  if (missing.length === 0) return;
  log(`=== installing ${missing.join(', ')} from Debian ===`);
  const asRoot = process.getuid?.() === 0;
  const apt = (args) => {
    const result = spawnSync(asRoot ? 'apt-get' : 'sudo', asRoot ? args : ['apt-get', ...args], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  };
  apt(['update']);
  apt(['install', '-y', '--no-install-recommends', ...missing]);
}
