/**
 * Runs the local DICOMweb server (src/server, bundled as dist/server/cli.js) in a child
 * process: its parsing and disk work never block the extension host, and a crash of one
 * never takes the other down. The child prints its service URL on its first line.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TOKEN_ENV } from '../server/tokenEnv';

export interface LocalServerProcessOptions {
  extensionPath: string;
  dir: string;
  port: number;
  token?: string;
  /** Origins whose web pages may use the server (CORS); none by default. */
  allowedOrigins?: readonly string[];
  /** Data partitions on (`--partitions`, src/server/partitions.ts); off by default, as Azure. */
  partitions?: boolean;
  onLog: (line: string) => void;
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export class LocalServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly dir: string,
  ) {}

  static start(options: LocalServerProcessOptions): Promise<LocalServerProcess> {
    const args = ['--dir', options.dir, '--port', String(options.port)];
    for (const origin of options.allowedOrigins ?? []) args.push('--allow-origin', origin);
    if (options.partitions) args.push('--partitions');
    // The token goes through the child's environment, readable only by this user
    // (/proc/PID/environ is 0400), never its command line, which every user can read.
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
    delete env[TOKEN_ENV];
    if (options.token) env[TOKEN_ENV] = options.token;
    const child = fork(join(options.extensionPath, 'dist', 'server', 'cli.js'), args, {
      // In desktop VS Code process.execPath is Electron: run it as plain Node.
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      let started = false;
      let buffer = '';
      const timer = setTimeout(() => {
        if (!started) {
          child.kill('SIGKILL');
          reject(new Error('The local DICOMweb server did not start within 30 s.'));
        }
      }, 30_000);
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          const match = /^DICOMweb service: (\S+)/.exec(line);
          if (match && !started) {
            started = true;
            clearTimeout(timer);
            resolve(new LocalServerProcess(child, match[1], options.dir));
          } else if (line) {
            options.onLog(line);
          }
        }
      });
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim()) options.onLog(line.trim());
      });
      child.on('error', (error) => {
        if (!started) {
          clearTimeout(timer);
          reject(error);
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (!started)
          reject(
            new Error(
              `The local DICOMweb server exited before it started (${code ?? signal}). See the DICOMweb log.`,
            ),
          );
        else options.onExit(code, signal);
      });
    });
  }

  /** Tells the server to accept one more `host[:port]` in `Host` (a forwarded address). */
  allowHost(authority: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected)
        return reject(new Error('the local server process is not connected'));
      this.child.send({ type: 'allowHost', host: authority }, (error) =>
        error ? reject(error) : resolve(),
      );
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM lets the server persist its index; SIGKILL after 5 s. */
  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const hard = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => {
        clearTimeout(hard);
        resolve();
      });
      this.child.kill('SIGTERM');
    });
  }
}
