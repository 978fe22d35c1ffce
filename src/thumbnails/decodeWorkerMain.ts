/**
 * The thumbnail thread's side of decodeWorker.ts: decodes each frame it is sent with the
 * preview's decoders, every codec loaded by the product's Node loader
 * (src/imaging/node/codecLoader.ts: dist/codecs/ in the VSIX, else node_modules), and
 * answers a small PNG, its buffer transferred. One frame at a time: the host sends the next
 * only after this one's answer.
 */
import { parentPort } from 'node:worker_threads';
import { DecodeError } from '../imaging/decode/types';
import { nodeDecoderDeps } from '../imaging/node/codecLoader';
import { transferable, type DecodeAnswer, type DecodeRequest } from './decodeWorker';
import { thumbnailPng } from './hostDecode';

const port = parentPort;
if (!port) throw new Error('decodeWorkerMain runs in a worker thread (see decodeWorker.ts)');
const deps = nodeDecoderDeps();

port.on('message', (request: DecodeRequest) => {
  thumbnailPng(request.bytes, request.info, request.encoding, request.size, deps).then(
    (encoded) => {
      // zlib's output may be a view of a shared pool: moved only when it is its own buffer.
      const png = transferable(encoded);
      const answer: DecodeAnswer = { id: request.id, png };
      port.postMessage(answer, [png.buffer as ArrayBuffer]);
    },
    (error: unknown) => {
      const answer: DecodeAnswer = {
        id: request.id,
        error: error instanceof Error ? error.message : String(error),
        unsupported: error instanceof DecodeError && error.unsupported,
        decode: error instanceof DecodeError,
      };
      port.postMessage(answer);
    },
  );
});
