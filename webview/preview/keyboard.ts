/**
 * The preview's keys, on the focused stage: frames (arrows, Page Up/Down, Home, End), cine
 * (Space), zoom (+, -, 0 fit, 1 actual size), invert (i) and reset (r). The toolbar's
 * button titles name the same keys (view.ts).
 */

/** What the keys do; main.ts binds each to the module that owns it. */
export interface KeyActions {
  next(): void;
  previous(): void;
  first(): void;
  last(): void;
  togglePlay(): void;
  zoomIn(): void;
  zoomOut(): void;
  fit(): void;
  actualSize(): void;
  invert(): void;
  reset(): void;
}

const KEYS = new Map<string, keyof KeyActions>([
  ['ArrowRight', 'next'],
  ['ArrowDown', 'next'],
  ['PageDown', 'next'],
  ['ArrowLeft', 'previous'],
  ['ArrowUp', 'previous'],
  ['PageUp', 'previous'],
  ['Home', 'first'],
  ['End', 'last'],
  [' ', 'togglePlay'],
  ['+', 'zoomIn'],
  ['=', 'zoomIn'],
  ['-', 'zoomOut'],
  ['0', 'fit'],
  ['1', 'actualSize'],
  ['i', 'invert'],
  ['r', 'reset'],
]);

/** A key of the table runs its action and is kept from the page (no scrolling on Space). */
export function bindKeys(target: HTMLElement, actions: KeyActions): void {
  target.addEventListener('keydown', (event) => {
    const action = KEYS.get(event.key);
    if (!action) return;
    actions[action]();
    event.preventDefault();
  });
}
