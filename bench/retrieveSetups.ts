/**
 * The two bottlenecks of the retrieve benchmark (issue 12, item 5), each applied equally to
 * every contender (curl, the drain-only read, the client's two readers):
 *
 *   slow disk    the files are written to an ext4 file system on a loop device whose
 *                writes the kernel throttles (see mountSlowDisk); the server is the usual
 *                Orthanc, direct.
 *   slow server  a TCP relay in front of Orthanc that forwards the answer at a fixed rate
 *                (a token bucket); the files go to the usual scratch folder (page cache).
 *
 * Neither needs anything outside the standard tools of the test bed (losetup, mkfs.ext4,
 * mount, cgroup v1's blkio throttle; the relay is Node's `net`). The slow disk needs root;
 * without it the setup is skipped and the reason is reported.
 */
import { mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { basename, join } from 'node:path';

export type Exec = (
  command: string,
  args: string[],
) => Promise<{ code: number; stdout: string; stderr: string }>;

/** A mounted slow file system: write targets go under `dir`. */
export interface SlowDisk {
  dir: string;
  /** What it is, for the benchmark's details. */
  description: string;
  release(): Promise<void>;
}

/** Dirty page cache the slow disk may hold before writers wait for it (its own limit, strict). */
const SLOW_DISK_DIRTY_BYTES = 32 * 1024 ** 2;
/** cgroup v1's block throttle (the test bed's kernel); v2 has no throttle for the root group. */
const BLKIO_THROTTLE = '/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device';

/**
 * A slow disk that every writer meets the same way, whatever its write size: an ext4 file
 * system of `sizeBytes` on a loop device doing direct I/O onto a file under `tmpDir`, its
 * writeback throttled by the kernel's block throttle to `bytesPerSecond`, and its own
 * dirty page cache held to {@link SLOW_DISK_DIRTY_BYTES} (bdi `max_bytes`,
 * `strict_limit`), so that a writer is paused inside write() (balance_dirty_pages) once
 * that much waits, as on any disk slower than the data arriving. Returns a reason instead
 * when it cannot (not root, no loop device, no throttle).
 */
export async function mountSlowDisk(
  tmpDir: string,
  sizeBytes: number,
  bytesPerSecond: number,
  exec: Exec,
): Promise<SlowDisk | string> {
  if (process.getuid?.() !== 0)
    return 'the slow disk needs root (losetup, mount, the block throttle)';
  const image = join(tmpDir, 'slow-disk.img');
  const dir = join(tmpDir, 'slow-disk');
  await mkdir(dir, { recursive: true });
  await writeFile(image, '');
  await truncate(image, sizeBytes);
  const loop = await exec('losetup', ['--find', '--show', '--direct-io=on', image]);
  if (loop.code !== 0) {
    await rm(image, { force: true });
    return `losetup failed: ${loop.stderr.trim()}`;
  }
  const device = loop.stdout.trim();
  const number = (await readFile(`/sys/block/${basename(device)}/dev`, 'utf8')).trim();
  const bdi = `/sys/class/bdi/${number}`;
  let throttled = false;
  // The bdi outlives the loop device's use (loop0 stays): its limits are put back after.
  const before = await Promise.all(
    ['strict_limit', 'max_ratio'].map(async (name) => ({
      name,
      value: (await readFile(`${bdi}/${name}`, 'utf8')).trim(),
    })),
  );
  const undo = async (): Promise<void> => {
    if (throttled) await writeFile(BLKIO_THROTTLE, `${number} 0`).catch(() => undefined);
    for (const { name, value } of before)
      await writeFile(`${bdi}/${name}`, value).catch(() => undefined);
    await exec('umount', [dir]);
    await exec('losetup', ['--detach', device]);
    await rm(image, { force: true });
    await rm(dir, { recursive: true, force: true });
  };
  const mkfs = await exec('mkfs.ext4', ['-q', '-F', device]);
  const mount = mkfs.code === 0 ? await exec('mount', [device, dir]) : mkfs;
  if (mount.code !== 0) {
    await undo();
    return `mkfs.ext4 or mount failed: ${mount.stderr.trim()}`;
  }
  try {
    await writeFile(`${bdi}/strict_limit`, '1');
    await writeFile(`${bdi}/max_bytes`, String(SLOW_DISK_DIRTY_BYTES));
    await writeFile(BLKIO_THROTTLE, `${number} ${bytesPerSecond}`);
    throttled = true;
  } catch (error) {
    await undo();
    return `the slow disk's limits could not be set: ${error instanceof Error ? error.message : String(error)}`;
  }
  return {
    dir,
    description:
      `ext4 on a loop device (${device}) doing direct I/O onto a file on the VM's disk, its writes throttled by the kernel to ${(bytesPerSecond / 1e6).toFixed(0)} MB/s ` +
      `(blkio.throttle.write_bps_device) and its dirty page cache held to ${SLOW_DISK_DIRTY_BYTES / 1024 ** 2} MiB (bdi max_bytes, strict_limit): ` +
      `past that, a writer waits inside write() for the disk, curl and the client alike, whatever their write size`,
    release: undo,
  };
}

/** A rate-limited TCP relay in front of a server. */
export interface SlowServer {
  /** `http://127.0.0.1:<relay port>`: replace the server's origin with it. */
  origin: string;
  bytesPerSecond: number;
  close(): Promise<void>;
}

/** Bytes the relay may send ahead of its rate (and the size of one pacing step). */
const RELAY_BURST = 1024 ** 2;

/**
 * Listens on 127.0.0.1 and forwards every connection to `target` (`host:port`); the
 * server's bytes are sent back at most `bytesPerSecond` (averaged from the connection's
 * start, bursts of {@link RELAY_BURST}), the request's bytes unpaced. Backpressure holds:
 * a reader that stops reading stops the relay, which stops reading the server.
 */
export async function startSlowServer(
  target: { host: string; port: number },
  bytesPerSecond: number,
): Promise<SlowServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((downstream) => {
    const upstream = connect(target.port, target.host);
    sockets.add(downstream).add(upstream);
    downstream.pipe(upstream);
    pace(upstream, downstream, bytesPerSecond);
    const end = (): void => {
      upstream.destroy();
      downstream.destroy();
      sockets.delete(upstream);
      sockets.delete(downstream);
    };
    upstream.on('error', end).on('close', () => downstream.end());
    downstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('relay: no port');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    bytesPerSecond,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Forwards `from` to `to` at `bytesPerSecond` (token bucket), honouring `to`'s backpressure. */
function pace(from: Socket, to: Socket, bytesPerSecond: number): void {
  let started = 0;
  let sent = 0;
  let waitingForTime = false;
  let waitingForDrain = false;
  const maybeResume = (): void => {
    if (!waitingForTime && !waitingForDrain) from.resume();
  };
  from.on('data', (chunk: Buffer) => {
    if (started === 0) started = performance.now();
    sent += chunk.length;
    if (!to.write(chunk)) {
      waitingForDrain = true;
      from.pause();
    }
    const ahead = sent - ((performance.now() - started) / 1000) * bytesPerSecond;
    if (ahead > RELAY_BURST) {
      waitingForTime = true;
      from.pause();
      setTimeout(
        () => {
          waitingForTime = false;
          maybeResume();
        },
        ((ahead - RELAY_BURST) / bytesPerSecond) * 1000,
      );
    }
  });
  to.on('drain', () => {
    waitingForDrain = false;
    maybeResume();
  });
  from.on('end', () => to.end());
}
