/**
 * What a drop on the tree uploads (src/tree/dropPlan.ts): files the extension host can open
 * by path are sent from disk; files dropped from the desktop into a remote window (their
 * paths are the person's machine's) are sent from the bytes the drop carries.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planDrop, temporaryFileName } from '../../src/tree/dropPlan';

describe('planDrop', () => {
  it("a local window: the Explorer's or the desktop's paths exist here; each is sent from disk once, no bytes read", () => {
    const a = { uri: 'file:///data/a.dcm', readable: true };
    const b = { uri: 'file:///data/b.dcm', readable: true };
    assert.deepEqual(
      planDrop(
        [a, b],
        [
          { name: 'a.dcm', uri: a },
          { name: 'b.dcm', uri: b },
        ],
      ),
      { uris: [a.uri, b.uri], fromData: [] },
    );
  });

  it("a remote window: desktop paths the host cannot open are sent from the drop's bytes, not as paths", () => {
    const local = { uri: 'file:///c%3A/Users/me/IM0001', readable: false };
    const plan = planDrop(
      [local, { uri: 'file:///c%3A/Users/me/IM0002', readable: false }],
      [{ name: 'IM0001', uri: local }, { name: 'IM0002' }],
    );
    assert.deepEqual(plan, { uris: [], fromData: [0, 1] });
  });

  it("a mixed drop keeps the remote's own files as paths and reads the rest from the drop", () => {
    const remote = { uri: 'file:///home/me/scan.dcm', readable: true };
    const plan = planDrop([remote], [{ name: 'scan.dcm', uri: remote }, { name: 'desktop.dcm' }]);
    assert.deepEqual(plan, { uris: [remote.uri], fromData: [1] });
  });

  it('paths that cannot be opened and no bytes: passed on, so the upload names them (as before)', () => {
    const gone = { uri: 'file:///nowhere/x.dcm', readable: false };
    assert.deepEqual(planDrop([gone], []), { uris: [gone.uri], fromData: [] });
  });
});

describe('temporaryFileName', () => {
  it('keeps the last segment only, never a way out of the folder, and is unique in a drop', () => {
    const taken = new Set<string>();
    assert.equal(temporaryFileName('IM0001', 0, taken), 'IM0001');
    assert.equal(temporaryFileName('IM0001', 1, taken), '2-IM0001');
    assert.equal(temporaryFileName('../../etc/passwd', 2, taken), 'passwd');
    assert.equal(temporaryFileName('..\\..\\win.ini', 3, taken), 'win.ini');
    assert.equal(temporaryFileName('..', 4, taken), 'dropped-5');
    assert.equal(temporaryFileName('a\u0000b\nc', 5, taken), 'abc');
    assert.equal(temporaryFileName('', 6, taken), 'dropped-7');
  });
});
