/**
 * How long a thread's own work holds its event loop, for the benchmarks (issue 14: the
 * thumbnails "never hold the extension host's event loop for more than 50 ms").
 *
 * A timer ticks every TICK_MS and each gap between two ticks is measured twice: in wall time
 * (what `monitorEventLoopDelay` sees) and in this thread's CPU time. On 2 cores shared with
 * other processes a gap can be long while this thread was not even running; its CPU time is
 * what the thread's own work (JavaScript, a garbage-collection pause) took, and it bounds the
 * longest task in the gap from above.
 */
import { performance } from 'node:perf_hooks';

/** The timer's period. */
export const TICK_MS = 5;
/** Gaps longer than this (wall time) are listed. */
export const STALL_MS = 40;

/** A gap over STALL_MS: when, how long, and the CPU this thread used meanwhile. */
export interface LoopStall {
  atMs: number;
  wallMs: number;
  cpuMs: number;
}

export interface HeldLoop {
  /** The most CPU this thread used between two consecutive ticks. */
  maxCpuMs: number;
  /** Gaps over STALL_MS, with their CPU: the wall time beyond the CPU is other processes'. */
  stalls: LoopStall[];
}

/** This thread's CPU time in ms: `process.threadCpuUsage` (Node ≥ 23.9), else the process's. */
export function threadCpuMs(): number {
  const usage =
    (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.() ??
    process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Whether threadCpuMs counts this thread only (else the whole process: an overestimate). */
export const THREAD_CPU =
  typeof (process as { threadCpuUsage?: unknown }).threadCpuUsage === 'function';

/** Starts the timer; `stop` measures the last gap and returns what was seen. */
export function heldLoopRecorder(): { stop(): HeldLoop } {
  const start = performance.now();
  const held: HeldLoop = { maxCpuMs: 0, stalls: [] };
  let lastWall = start;
  let lastCpu = threadCpuMs();
  let timer: NodeJS.Timeout | undefined;
  const measure = (): void => {
    const wall = performance.now();
    const cpu = threadCpuMs();
    held.maxCpuMs = Math.max(held.maxCpuMs, cpu - lastCpu);
    if (wall - lastWall > STALL_MS)
      held.stalls.push({ atMs: lastWall - start, wallMs: wall - lastWall, cpuMs: cpu - lastCpu });
    lastWall = wall;
    lastCpu = cpu;
  };
  const tick = (): void => {
    measure();
    timer = setTimeout(tick, TICK_MS);
  };
  timer = setTimeout(tick, TICK_MS);
  return {
    stop: () => {
      clearTimeout(timer);
      measure();
      return held;
    },
  };
}
