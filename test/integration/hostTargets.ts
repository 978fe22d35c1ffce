/**
 * The servers the extension-host suites run against: the real Orthanc that `npm test`
 * started, and the extension's local server started here. Where the two answer differently
 * a suite reads `target.behaviour` (test/support/targets.ts says why).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DicomWebClient } from '../../src/dicomweb';
import { startLocalServer, type LocalServer } from '../../src/server';
import { clearOrthanc } from '../support/orthanc';
import { DIFFERENCES, type Behaviour } from '../support/targets';

/** A variable `npm test` sets for the extension host. */
export const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through npm test`);
  return value;
};

/** A server the suite runs against, from inside the extension host. */
export interface HostTarget {
  name: string;
  behaviour: Behaviour;
  /** Starts (or empties) the server; returns the connection to add and a client to check it. */
  start(): Promise<{
    connection: Record<string, string>;
    client: DicomWebClient;
    stop(): Promise<void>;
  }>;
}

export const HOST_TARGETS: HostTarget[] = [
  {
    name: 'Orthanc',
    behaviour: DIFFERENCES.orthanc.behaviour,
    async start() {
      await clearOrthanc({ restUrl: env('DICOMWEB_TEST_REST_URL') });
      const client = new DicomWebClient({
        baseUrl: env('DICOMWEB_TEST_URL'),
        serverKind: 'orthanc',
        serverRoot: env('DICOMWEB_TEST_REST_URL'),
      });
      return {
        connection: {
          name: 'Orthanc (test)',
          url: env('DICOMWEB_TEST_URL'),
          kind: 'orthanc',
          serverRoot: env('DICOMWEB_TEST_REST_URL'),
        },
        client,
        stop: () => client.close(),
      };
    },
  },
  {
    name: 'the local server',
    behaviour: DIFFERENCES.local.behaviour,
    async start() {
      const server: LocalServer = await startLocalServer({
        dir: mkdtempSync(join(tmpdir(), 'dicomweb-it-target-')),
        port: 0,
      });
      const client = new DicomWebClient({ baseUrl: `${server.url}/v2`, serverKind: 'local' });
      return {
        connection: { name: 'Local server (test)', url: `${server.url}/v2`, kind: 'local' },
        client,
        stop: async () => {
          await client.close();
          await server.close();
        },
      };
    },
  },
];
