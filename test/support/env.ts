/**
 * The servers `npm test` started (scripts/test.mjs passes them in the environment), and a
 * client for each. Tests talk to a real Orthanc; nothing here imitates a server.
 */
import { basicAuth, DicomWebClient, type DicomWebClientOptions } from '../../src/dicomweb';
import { clearOrthanc } from './orthanc';
import { makeTempDir } from './tempDirs';

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run the client tests through \`npm test\`, which starts Orthanc`,
    );
  return value;
}

export const orthanc = {
  get dicomWebUrl(): string {
    return required('DICOMWEB_TEST_URL');
  },
  get restUrl(): string {
    return required('DICOMWEB_TEST_REST_URL');
  },
};

export const securedOrthanc = {
  get dicomWebUrl(): string {
    return required('DICOMWEB_TEST_AUTH_URL');
  },
  get restUrl(): string {
    return required('DICOMWEB_TEST_AUTH_REST_URL');
  },
  get username(): string {
    return required('DICOMWEB_TEST_AUTH_USER');
  },
  get password(): string {
    return required('DICOMWEB_TEST_AUTH_PASSWORD');
  },
};

export function orthancClient(options: Partial<DicomWebClientOptions> = {}): DicomWebClient {
  return new DicomWebClient({
    baseUrl: orthanc.dicomWebUrl,
    serverKind: 'orthanc',
    serverRoot: orthanc.restUrl,
    ...options,
  });
}

export function securedClient(password = securedOrthanc.password): DicomWebClient {
  return new DicomWebClient({
    baseUrl: securedOrthanc.dicomWebUrl,
    serverKind: 'orthanc',
    serverRoot: securedOrthanc.restUrl,
    auth: basicAuth(securedOrthanc.username, password),
  });
}

/** Empties the open Orthanc (every test file starts from a known state). */
export function resetOrthanc(): Promise<void> {
  return clearOrthanc({ restUrl: orthanc.restUrl });
}

/** A new folder under the system's temporary one, removed when the test file's process exits. */
export function tempDir(prefix: string): string {
  return makeTempDir(`dicomweb-explorer-${prefix}-`);
}
