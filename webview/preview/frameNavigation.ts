/**
 * Which frame is shown: moves to a frame (the slider, the keys, cine), loads it, hands it to
 * the viewport and says in the status bar where its bytes came from, or over the picture why
 * it cannot be shown. Tells the extension once when the first frame is on screen
 * (`rendered`).
 */
import type { ImageInfo } from '../protocol';
import type { CineFrames } from './cine';
import type { FrameStore } from './frames';
import { describePath, messageOf, type PreviewView } from './view';
import type { Viewport } from './viewport';
import type { Post } from './vscodeApi';

export interface FrameNavigationSetup {
  view: PreviewView;
  info: ImageInfo;
  frames: FrameStore;
  viewport: Viewport;
  cine: { readonly isPlaying: boolean; frameDrawn(): void };
  post: Post;
}

/** Frames decoded ahead of the one shown when not playing. */
const PREFETCH_WHEN_STILL = 2;

export class FrameNavigation implements CineFrames {
  private currentFrame = 1;
  private firstShown = false;

  constructor(private readonly setup: FrameNavigationSetup) {
    const { slider } = setup.view;
    slider.addEventListener('input', () => void this.show(Number(slider.value)));
  }

  get frameCount(): number {
    return this.setup.info.numberOfFrames;
  }

  /** The frame asked for last: shown, or still loading. */
  get current(): number {
    return this.currentFrame;
  }

  isLoaded(frameNumber: number): boolean {
    return this.setup.frames.has(frameNumber);
  }

  load(frameNumber: number): Promise<unknown> {
    return this.setup.frames.load(frameNumber);
  }

  prefetch(count: number): Promise<void> {
    return this.setup.frames.prefetch(count);
  }

  next(): Promise<void> {
    return this.show(this.currentFrame >= this.frameCount ? 1 : this.currentFrame + 1);
  }

  previous(): Promise<void> {
    return this.show(this.currentFrame <= 1 ? this.frameCount : this.currentFrame - 1);
  }

  /** Shows a frame (clamped to 1…frameCount) once it is decoded, unless another was asked since. */
  async show(frameNumber: number): Promise<void> {
    const { view, frames, viewport, cine } = this.setup;
    this.currentFrame = Math.min(Math.max(1, frameNumber), this.frameCount);
    view.showPosition(this.currentFrame, this.frameCount);
    const wanted = this.currentFrame;
    try {
      const shown = await frames.load(wanted);
      if (wanted !== this.currentFrame) return;
      view.showFrameError(undefined);
      viewport.display(shown);
      cine.frameDrawn();
      viewport.applyZoom();
      view.setPathStatus(describePath(shown, this.setup.info));
      view.hideMessage();
      if (!this.firstShown) {
        this.firstShown = true;
        // After the browser has had the chance to paint it.
        requestAnimationFrame(() =>
          this.setup.post({ type: 'rendered', frameNumber: wanted, path: shown.path }),
        );
      }
    } catch (error) {
      if (wanted !== this.currentFrame) return;
      view.showFrameError(`Frame ${wanted} cannot be shown: ${messageOf(error)}`);
      if (!viewport.hasFrame)
        view.showMessage(`Frame ${wanted} cannot be shown.`, messageOf(error));
    }
    if (!cine.isPlaying) void frames.prefetch(PREFETCH_WHEN_STILL);
  }
}
