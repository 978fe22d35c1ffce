/**
 * src/mime/contentType.ts and partHeaders.ts: the one parser of media-type parameters
 * (RFC 9110 §5.6.6, §8.3.1, §12.5.1; PS3.18 §8.7.3.5) and the one parser of header fields
 * (RFC 2046 §5.1.1 part headers, RFC 9112 §5 message heads). The older cases of
 * parseContentType live in multipart.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  innerMediaType,
  isToken,
  mediaTypeOf,
  parameterValue,
  parseAccept,
  parseContentType,
  splitHeaderList,
  transferSyntaxFromType,
} from '../../src/mime/contentType';
import { MultipartError } from '../../src/mime/errors';
import { parseFieldLines, parseHeaderBlock, readHeaderBlock } from '../../src/mime/partHeaders';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('parseContentType: RFC 9110 §5.6.6 parameters', () => {
  it('reads a quoted boundary with spaces, tspecials and escapes, keeping its case', () => {
    const { params } = parseContentType('multipart/related; boundary="My Bound:ary=\\"1\\""');
    assert.equal(params['boundary'], 'My Bound:ary="1"');
  });

  it('matches parameter names in any case and lower-cases them; values keep their case', () => {
    for (const name of ['boundary', 'BOUNDARY', 'Boundary', 'bOuNdArY']) {
      const { mediaType, params } = parseContentType(`MULTIPART/Related; ${name}=AbC`);
      assert.equal(mediaType, 'multipart/related');
      assert.deepEqual(params, { boundary: 'AbC' });
    }
  });

  it('skips optional whitespace (spaces and tabs) around ";" and at the ends', () => {
    const expected = {
      mediaType: 'multipart/related',
      params: { type: 'application/dicom', boundary: 'abc' },
    };
    for (const header of [
      'multipart/related;type="application/dicom";boundary=abc',
      'multipart/related ; type="application/dicom" ; boundary=abc',
      ' multipart/related\t;\ttype="application/dicom"\t;\tboundary=abc\t',
    ]) {
      assert.deepEqual(parseContentType(header), expected, JSON.stringify(header));
    }
  });

  it('keeps the first of a repeated parameter and a "__proto__" parameter as data', () => {
    const { params } = parseContentType('a/b; x=1; X=2; __proto__=p');
    assert.equal(params['x'], '1');
    assert.equal(Object.getPrototypeOf(params), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(params, '__proto__')?.value, 'p');
  });

  it('tolerates an unterminated quoted string and ignores text after the closing quote', () => {
    assert.equal(parseContentType('a/b; boundary="abc').params['boundary'], 'abc');
    assert.deepEqual(parseContentType('a/b; boundary="abc"junk; type=x').params, {
      boundary: 'abc',
      type: 'x',
    });
  });

  it('gives the media type alone with mediaTypeOf', () => {
    assert.equal(
      mediaTypeOf('Application/DICOM; transfer-syntax=1.2.840.10008.1.2.1'),
      'application/dicom',
    );
    assert.equal(mediaTypeOf(''), '');
  });
});

describe('PS3.18 §8.7.3.5 type and transfer-syntax parameters', () => {
  it('finds the transfer syntax as its own parameter or nested in the quoted type', () => {
    const own = parseContentType(
      'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.4.50',
    );
    assert.equal(transferSyntaxFromType(own.params), '1.2.840.10008.1.2.4.50');
    const nested = parseContentType(
      'multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"; boundary=x',
    );
    assert.equal(transferSyntaxFromType(nested.params), '1.2.840.10008.1.2.1');
    assert.equal(innerMediaType(nested.params), 'application/octet-stream');
    assert.equal(transferSyntaxFromType(parseContentType('multipart/related').params), undefined);
    assert.equal(innerMediaType({}), undefined);
  });

  it('writes a token as is and anything else as a quoted-string that reads back', () => {
    assert.equal(parameterValue('DICOMwebExplorer-0a'), 'DICOMwebExplorer-0a');
    assert.equal(parameterValue('a:b=c'), '"a:b=c"');
    assert.equal(parameterValue('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
    for (const value of ['a:b=c', 'say "hi" \\ bye', 'x y']) {
      assert.equal(parseContentType(`a/b; v=${parameterValue(value)}`).params['v'], value);
    }
    assert.equal(isToken('abc'), true);
    assert.equal(isToken('a b'), false);
    assert.equal(isToken(''), false);
  });
});

describe('Accept lists (RFC 9110 §5.6.1, §12.5.1)', () => {
  it('splits at commas outside quoted strings, escaped quotes included', () => {
    assert.deepEqual(
      splitHeaderList(
        'multipart/related; type="application/dicom, x"; q=0.5 , application/json,, ,a/b; t="\\",\\""',
      ),
      [
        'multipart/related; type="application/dicom, x"; q=0.5',
        'application/json',
        'a/b; t="\\",\\""',
      ],
    );
  });

  it("orders ranges by q, stable for equal weights, drops q=0 and keeps Orthanc's nested type", () => {
    const ranges = parseAccept(
      'application/json; q=0.5, multipart/related; type="application/octet-stream; transfer-syntax=*", ' +
        'image/png; q=0, application/dicom+json; q=0.5, text/plain; q=x',
    );
    assert.deepEqual(
      ranges.map((r) => [r.mediaType, r.q]),
      [
        ['multipart/related', 1],
        ['text/plain', 1],
        ['application/json', 0.5],
        ['application/dicom+json', 0.5],
      ],
    );
    assert.equal(transferSyntaxFromType(ranges[0]!.params), '*');
  });

  it('reads an absent or blank Accept as */*', () => {
    for (const header of [undefined, '', '  ']) {
      assert.deepEqual(parseAccept(header), [{ mediaType: '*/*', params: {}, q: 1 }]);
    }
  });
});

describe('header fields (RFC 2046 §5.1.1 parts, RFC 9112 §5 messages)', () => {
  it('reads part headers: names lower-cased, repeats joined, folded lines unfolded', () => {
    assert.deepEqual(
      parseHeaderBlock('Content-Type: a/b\r\nX-A: 1\r\nx-a : 2\r\nX-F: one\r\n\ttwo'),
      { 'content-type': 'a/b', 'x-a': '1, 2', 'x-f': 'one two' },
    );
    assert.deepEqual(parseHeaderBlock(''), {});
  });

  it('refuses a part header line without a name', () => {
    assert.throws(
      () => parseHeaderBlock('Content-Type a/b'),
      (e: unknown) => e instanceof MultipartError && e.code === 'MALFORMED',
    );
    assert.throws(() => parseHeaderBlock(': empty name'), MultipartError);
  });

  it('holds HTTP field lines to the stricter grammar: token names, no folding', () => {
    assert.deepEqual(
      parseFieldLines(['Content-Length: 5', 'Set-Cookie: a', 'set-cookie: b'], 'http'),
      {
        ok: true,
        fields: { 'content-length': '5', 'set-cookie': 'a, b' },
      },
    );
    assert.deepEqual(parseFieldLines(['A: 1', ' folded'], 'http'), {
      ok: false,
      badLine: ' folded',
    });
    assert.deepEqual(parseFieldLines(['Bad Name: 1'], 'http'), {
      ok: false,
      badLine: 'Bad Name: 1',
    });
    assert.deepEqual(parseFieldLines(['Name : 1'], 'http'), { ok: false, badLine: 'Name : 1' });
    assert.deepEqual(parseFieldLines(['Name : 1'], 'mime'), { ok: true, fields: { name: '1' } });
  });

  it('finds the end of a header block, waits for more, and stops one that is too large', () => {
    const buf = latin1('\r\nContent-Type: a/b\r\n\r\nBODY');
    assert.deepEqual(readHeaderBlock(buf, 0, 100), {
      headers: { 'content-type': 'a/b' },
      bodyStart: buf.indexOf('BODY'),
    });
    assert.deepEqual(readHeaderBlock(latin1('\r\n\r\nB'), 0, 0), { headers: {}, bodyStart: 4 });
    assert.equal(readHeaderBlock(latin1('\r\nContent-Type: a/b\r\n'), 0, 100), undefined);
    assert.throws(
      () => readHeaderBlock(latin1(`\r\nX: ${'y'.repeat(100)}`), 0, 50),
      (e: unknown) => e instanceof MultipartError && e.code === 'HEADERS_TOO_LARGE',
    );
  });
});
