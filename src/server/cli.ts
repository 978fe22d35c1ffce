#!/usr/bin/env node
/**
 * Standalone start of the local DICOMweb server, outside VS Code:
 *
 * node out/src/server/cli.js --dir PATH [--port N] [--token T] [--allow-origin ORIGIN]… [--seed]
 * [--partitions] [--quiet]
 *
 * `--partitions` turns on data partitions (`/partitions/{name}/…`, src/server/partitions.ts),
 * off by default as in the Azure DICOM service.
 *
 * The bearer token is best given in the environment variable DICOMWEB_LOCAL_SERVER_TOKEN:
 * a process's command line is readable by every user of the machine (/proc/PID/cmdline),
 * its environment only by its owner (/proc/PID/environ is mode 0400). `--token` still works
 * for a quick manual start, with a warning. The extension always uses the variable.
 *
 * Prints the service URL on its first line of output (`DICOMweb service: http://…`), logs
 * requests that change data, and stops cleanly (index persisted) on SIGINT or SIGTERM.
 */
import { join } from 'node:path';
import { writeSeedFiles } from './samples';
import { startLocalServer } from './lifecycle';
import { TOKEN_ENV } from './tokenEnv';

interface CliOptions {
  dir: string;
  port: number;
  token?: string;
  allowedOrigins: string[];
  seed: boolean;
  partitions: boolean;
  quiet: boolean;
}

const USAGE =
  'usage: dicomweb-local-server --dir PATH [--port N] [--token T] [--allow-origin ORIGIN]... [--seed] [--partitions] [--quiet]\n' +
  `  the token is better given in the environment: ${TOKEN_ENV}=T (a command line is visible to every user)`;

function parseArgs(argv: string[]): CliOptions {
  const options: Partial<CliOptions> = {
    port: 0,
    seed: false,
    partitions: false,
    quiet: false,
    allowedOrigins: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--dir':
        options.dir = value();
        break;
      case '--port': {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new Error('--port must be 0..65535');
        options.port = port;
        break;
      }
      case '--token':
        options.token = value();
        console.error(
          `warning: --token is visible to every user of this machine in the process list; set ${TOKEN_ENV} instead`,
        );
        break;
      case '--allow-origin':
        options.allowedOrigins!.push(value());
        break;
      case '--seed':
        options.seed = true;
        break;
      case '--partitions':
        options.partitions = true;
        break;
      case '--quiet':
        options.quiet = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  if (!options.dir) throw new Error('--dir is required');
  const fromEnv = process.env[TOKEN_ENV];
  // Not passed on to anything this process might start.
  delete process.env[TOKEN_ENV];
  if (options.token === undefined && fromEnv) options.token = fromEnv;
  return options as CliOptions;
}

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const log = options.quiet
    ? () => undefined
    : (line: string) => console.error(`[local-dicomweb] ${line}`);
  if (options.seed) {
    // The seed's three shapes (green-square, red-triangle, blue-circle), written as files
    // into the served folder before the start, so the first scan indexes them.
    await writeSeedFiles(join(options.dir, 'seed'));
  }
  const server = await startLocalServer({
    dir: options.dir,
    port: options.port,
    token: options.token,
    allowedOrigins: options.allowedOrigins,
    partitions: options.partitions,
    log,
  });
  console.log(`DICOMweb service: ${server.url}`);
  console.log(
    `  e.g. curl "${server.url}/v2/studies" -H "Accept: application/dicom+json"${options.token ? ' -H "Authorization: Bearer …"' : ''}`,
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error((error as Error).message);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Started by the extension (a fork with an IPC channel): it tells the forwarded address a
  // remote window reaches the server by, which the Host check then accepts.
  if (process.send) {
    process.on('message', (message: unknown) => {
      const { type, host } = (message ?? {}) as { type?: unknown; host?: unknown };
      if (type !== 'allowHost' || typeof host !== 'string') return;
      try {
        server.allowHost(host);
        log(`also answering requests addressed to ${host} (forwarded address)`);
      } catch (error) {
        log(`refused forwarded address: ${(error as Error).message}`);
      }
    });
    // The channel must not keep the server alive by itself; signals and the parent's exit stop it.
    process.channel?.unref();
  }
}

void main();
