/**
 * Issue 10, finding 6 (webview part): the webview's `log.level` was used as a method name
 * on the log channel (`dispose`, `replace`, `clear` …). Every message from the webview is
 * now validated against webview/protocol.ts: known type, fields of the right types and
 * ranges; the level maps to info/warn/error by a fixed switch.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkFromWebview,
  isFromWebview,
  logAt,
  MAX_LOG_MESSAGE_LENGTH,
  MAX_SUGGESTED_NAME_LENGTH,
} from '../../webview/protocol';

function refused(value: unknown): string {
  const result = checkFromWebview(value);
  assert.equal(result.ok, false, `refused: ${safeJson(value)}`);
  return result.ok ? '' : result.reason;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 120) ?? String(value);
  } catch {
    return String(value);
  }
}

describe('webview → extension messages are validated (issue 10, finding 6)', () => {
  it('refuses a log message whose level is a method of the channel or of Object', () => {
    for (const level of [
      'dispose',
      'replace',
      'clear',
      'show',
      'hide',
      'append',
      'appendLine',
      'trace',
      'debug',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'INFO',
      ' info',
      '',
    ]) {
      assert.match(
        refused({ type: 'log', level, message: 'x' }),
        /level is not one of info, warn, error/,
        level,
      );
    }
    for (const level of [1, null, undefined, {}, ['info'], true])
      refused({ type: 'log', level, message: 'x' });
  });

  it('refuses wrong types, out-of-range numbers and huge strings', () => {
    refused({ type: 'log', level: 'info', message: 'x'.repeat(MAX_LOG_MESSAGE_LENGTH + 1) });
    refused({ type: 'log', level: 'info', message: 42 });
    refused({ type: 'ready', protocolVersion: '1' });
    refused({ type: 'requestFrame', requestId: 1, frameNumber: 0 });
    refused({ type: 'requestFrame', requestId: 1, frameNumber: 2 ** 60 });
    refused({ type: 'requestFrame', requestId: -1, frameNumber: 1 });
    refused({ type: 'requestFrame', requestId: 1.5, frameNumber: 1 });
    refused({ type: 'requestFrame', requestId: 1, frameNumber: 1, from: 'anywhere' });
    refused({ type: 'requestCodec', name: '../../etc/passwd' });
    refused({ type: 'requestCodec', name: 'toString' });
    refused({
      type: 'exportPng',
      suggestedName: 'a'.repeat(MAX_SUGGESTED_NAME_LENGTH + 1),
      png: new Uint8Array(1),
    });
    refused({ type: 'exportPng', suggestedName: 'a.png', png: [137, 80, 78, 71] });
    refused({ type: 'rendered', frameNumber: 1, path: 'elsewhere' });
    refused({ type: 'cineStats', framesDrawn: 1, elapsedMs: Infinity, fps: 10, stopped: false });
    refused({ type: 'cineStats', framesDrawn: 1, elapsedMs: 10, fps: NaN, stopped: false });
    refused({ type: 'cineStats', framesDrawn: 1, elapsedMs: 10, fps: 10, stopped: 'no' });
  });

  it('refuses unknown types, prototype keys and non-objects, and names them printably', () => {
    for (const value of [null, undefined, 'log', 7, [], [{ type: 'log' }], {}, { type: 1 }])
      refused(value);
    for (const type of [
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'evaluate',
      'LOG',
    ]) {
      assert.equal(refused({ type, level: 'info', message: 'x' }), 'unknown message type', type);
    }
    // `type` must be the message's own property, not an inherited one.
    refused(Object.create({ type: 'ready', protocolVersion: 1 }));
    const long = checkFromWebview({ type: `\u0000${'z'.repeat(10_000)}` });
    assert.ok(
      !long.ok && long.type.length <= 41 && !long.type.includes('\u0000'),
      'a long or binary type is cut and made printable for the log',
    );
  });

  it('accepts every well-formed message of the protocol', () => {
    const good = [
      { type: 'ready', protocolVersion: 1 },
      { type: 'requestFrame', requestId: 0, frameNumber: 1 },
      { type: 'requestFrame', requestId: 3, frameNumber: 7, from: 'transcoded' },
      { type: 'requestCodec', name: 'openjph' },
      { type: 'exportPng', suggestedName: 'CT-frame3.png', png: new Uint8Array([137, 80, 78, 71]) },
      { type: 'log', level: 'warn', message: 'frame 2: no decoder' },
      { type: 'rendered', frameNumber: 1, path: 'stored' },
      { type: 'cineStats', framesDrawn: 30, elapsedMs: 1000.5, fps: 30, stopped: true },
    ];
    for (const message of good) assert.ok(isFromWebview(message), message.type);
  });

  it('maps a level to the channel method by a fixed switch', () => {
    const calls: string[] = [];
    const channel = {
      info: (t: string) => calls.push(`info ${t}`),
      warn: (t: string) => calls.push(`warn ${t}`),
      error: (t: string) => calls.push(`error ${t}`),
    };
    logAt(channel, 'info', 'a');
    logAt(channel, 'warn', 'b');
    logAt(channel, 'error', 'c');
    // Even a level that bypassed the validator cannot reach another method.
    logAt(channel, 'dispose' as 'info', 'd');
    assert.deepEqual(calls, ['info a', 'warn b', 'error c', 'info d']);
  });
});
