/**
 * The preview webview's entry: the frame viewer (viewer.ts) on the whole page. No network:
 * everything arrives by message (webview/protocol.ts).
 */
import { PROTOCOL_VERSION, isToWebview } from '../protocol';
import { createViewer } from './viewer';
import { connectToExtension } from './vscodeApi';

const post = connectToExtension();
const receive = createViewer(document.getElementById('app')!, post);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (isToWebview(event.data)) receive(event.data);
});

post({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
