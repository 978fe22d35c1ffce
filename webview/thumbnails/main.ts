/**
 * The thumbnail grid's page (src/thumbnailsHost/ThumbnailGridPanel.ts on the other side).
 * No network: the tile list, every picture and the codecs' wasm arrive by message.
 */
import { PROTOCOL_VERSION, isToWebview, type ToWebview } from '../protocol';
import { BrowserCodecs } from '../preview/codecLoader';
import { connectToExtension } from '../preview/vscodeApi';
import { ThumbnailGrid } from './grid';

const post = connectToExtension();
const app = document.getElementById('app')!;
const codecs = new BrowserCodecs(app.dataset.nonce ?? '', post);
let grid: ThumbnailGrid | undefined;

function showMessage(text: string): void {
  const message = document.getElementById('message');
  if (message) message.textContent = text;
}

function start(message: Extract<ToWebview, { type: 'thumbnailsInit' }>): void {
  codecs.useScripts(message.codecScripts);
  const header = document.getElementById('message')!;
  header.className = 'thumb-header';
  header.textContent = `${message.tiles.length.toLocaleString('en-US')} instances · ${message.sourceLabel}${message.truncated ? ' · only the first ones are listed' : ''}`;
  const container = document.createElement('div');
  container.className = 'thumb-grid';
  app.appendChild(container);
  grid = new ThumbnailGrid(container, message.tiles, post, codecs.deps);
}

function receive(message: ToWebview): void {
  switch (message.type) {
    case 'thumbnailsInit':
      if (message.protocolVersion === PROTOCOL_VERSION && !grid) start(message);
      return;
    case 'thumbnail':
      void grid?.receive(message);
      return;
    case 'thumbnailError':
      grid?.refuse(message);
      return;
    case 'scrollToTile':
      grid?.scrollTo(message.index);
      return;
    case 'codec':
      codecs.deliver(message);
      return;
    case 'fatal':
      showMessage(message.message);
      return;
    default:
      return;
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (isToWebview(event.data)) receive(event.data);
});

post({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
