/**
 * Cine: plays a multi-frame instance in a loop on animation frames at a frame rate (from
 * the header's Frame Time, the fps field, or the extension's `cine` message), drawing a
 * frame only once it is decoded and prefetching ahead, and reports what it drew
 * (`cineStats`) so the extension can log and test the rate reached.
 */
import type { CineMessage } from '../protocol';
import type { PreviewView } from './view';
import type { Post } from './vscodeApi';

/** What cine steps through: the instance's frames and which one is shown. */
export interface CineFrames {
  readonly frameCount: number;
  /** The frame shown (or being loaded to be shown). */
  readonly current: number;
  show(frameNumber: number): Promise<void>;
  isLoaded(frameNumber: number): boolean;
  load(frameNumber: number): Promise<unknown>;
  prefetch(count: number): Promise<void>;
}

/** Frames decoded ahead while playing. */
const PREFETCH_WHILE_PLAYING = 8;

/**
 * What cine drew: frames drawn while playing, on the webview's clock, reported after every
 * loop's worth of frames and when cine stops.
 */
class CineStats {
  private count = 0;
  private since: number | undefined;
  private last = 0;

  constructor(private readonly post: Post) {}

  restart(): void {
    this.count = 0;
    this.since = undefined;
  }

  /** One frame drawn while playing; posts a report after a loop's worth (`frameCount`). */
  frameDrawn(frameCount: number, fps: number): void {
    const now = performance.now();
    this.last = now;
    if (this.since === undefined) {
      this.since = now;
      return;
    }
    this.count++;
    if (this.count >= frameCount) this.report(now, false, fps);
  }

  /** Cine stopped: report the partial loop, up to the last frame drawn. */
  stop(fps: number): void {
    this.report(this.last, true, fps);
  }

  private report(until: number, stopped: boolean, fps: number): void {
    if (this.since !== undefined && this.count > 0)
      this.post({
        type: 'cineStats',
        framesDrawn: this.count,
        elapsedMs: until - this.since,
        fps,
        stopped,
      });
    this.count = 0;
    this.since = stopped ? undefined : until;
  }
}

export class Cine {
  /** Set when `init` arrived; before that, only the frame rate can be set. */
  private frames: CineFrames | undefined;
  private playing = false;
  private fps = 20;
  private lastTick = 0;
  private readonly stats: CineStats;

  constructor(
    private readonly view: PreviewView,
    post: Post,
  ) {
    this.stats = new CineStats(post);
    view.playButton.addEventListener('click', () => this.toggle());
    view.fpsField.addEventListener('change', () => this.setFps(Number(view.fpsField.value)));
  }

  get isPlaying(): boolean {
    return this.playing;
  }

  /** The instance is known: its frames, and the header's Frame Time as the starting rate. */
  open(frames: CineFrames, frameTimeMs: number | undefined): void {
    this.frames = frames;
    if (frameTimeMs) this.fps = Math.min(60, Math.max(1, Math.round(1000 / frameTimeMs)));
    this.view.fpsField.value = String(this.fps);
  }

  /** The extension's `cine` message: the rate first, then play or pause. */
  command(message: CineMessage): void {
    if (message.fps !== undefined) this.setFps(message.fps);
    if (message.play !== this.playing) this.toggle();
  }

  toggle(): void {
    if (!this.frames || this.frames.frameCount < 2) return;
    this.playing = !this.playing;
    this.view.playButton.textContent = this.playing ? 'Pause' : 'Play';
    if (this.playing) {
      this.lastTick = 0;
      this.stats.restart();
      requestAnimationFrame(this.tick);
    } else {
      this.stats.stop(this.fps);
    }
  }

  /** A rate from 0 (exclusive) to 120 frames/s; anything else keeps the current one. */
  setFps(value: number): void {
    if (Number.isFinite(value) && value > 0 && value <= 120) this.fps = value;
    this.view.fpsField.value = String(this.fps);
  }

  /** The frame shown was drawn: counted while playing. */
  frameDrawn(): void {
    if (this.playing && this.frames) this.stats.frameDrawn(this.frames.frameCount, this.fps);
  }

  private readonly tick = (time: number): void => {
    const frames = this.frames;
    if (!this.playing || !frames) return;
    const interval = 1000 / this.fps;
    if (time - this.lastTick >= interval) {
      const next = (frames.current % frames.frameCount) + 1;
      if (frames.isLoaded(next)) {
        // Keep the schedule: animation frames come in ~16.7 ms steps, and restarting the
        // interval at `time` rounds every gap up to the next step (20 fps asked, 18.9 played).
        // After a stall (a frame still loading) the schedule restarts instead of catching up.
        this.lastTick = time - this.lastTick > 2 * interval ? time : this.lastTick + interval;
        void frames.show(next);
      } else {
        void frames.load(next).catch(() => undefined);
      }
      void frames.prefetch(PREFETCH_WHILE_PLAYING);
    }
    requestAnimationFrame(this.tick);
  };
}
