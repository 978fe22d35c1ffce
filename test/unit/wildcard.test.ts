/**
 * Wildcard matching of QIDO-RS keys (PS3.4 §C.2.2.2.4) without backtracking (issue 10,
 * finding 2): the patterns that froze the server, equivalence with a reference matcher on
 * random patterns and values, and the case folding the old RegExp's `i` flag had.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIELD_BY_KEYWORD } from '../../src/server/catalog';
import { matcher } from '../../src/server/qido';
import {
  QIDO_MAX_PATTERN_LENGTH,
  compileWildcard,
  wildcardMatches,
} from '../../src/dicom/wildcard';
import { rng } from '../support/random';

const match = (pattern: string, value: string) => wildcardMatches(compileWildcard(pattern), value);

/**
 * The reference: a memoised DP over (pattern index, value index), case-folded like a RegExp `i`.
 */
function reference(pattern: string, value: string): boolean {
  const canon = (c: string) => {
    const u = c.toUpperCase();
    return u.length !== 1 || (c.charCodeAt(0) >= 128 && u.charCodeAt(0) < 128) ? c : u;
  };
  const memo = new Map<number, boolean>();
  const go = (p: number, v: number): boolean => {
    const key = p * (value.length + 1) + v;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (p === pattern.length) result = v === value.length;
    else if (pattern[p] === '*') result = go(p + 1, v) || (v < value.length && go(p, v + 1));
    else
      result =
        v < value.length &&
        (pattern[p] === '?' || canon(pattern[p]!) === canon(value[v]!)) &&
        go(p + 1, v + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

const DESCRIPTION = 'CT CHEST ABDOMEN PELVIS WITH CONTRAST';
const HOSTILE = ['*a*a*a*a*a*a*a*a*b', `${'*?'.repeat(18)}*Z`];

describe('wildcard matching (PS3.4 §C.2.2.2.4) in linear time', () => {
  it('the patterns of issue 10 that froze the server answer at once, over 100,000 values, through the QIDO matcher', () => {
    const field = FIELD_BY_KEYWORD.get('StudyDescription')!;
    for (const pattern of HOSTILE) {
      const test = matcher(field, pattern, false);
      const started = performance.now();
      let matched = 0;
      for (let i = 0; i < 100_000; i++)
        if (test(i % 2 ? DESCRIPTION : `${DESCRIPTION} ${i}`)) matched++;
      const elapsed = performance.now() - started;
      // The backtracking RegExp took over 30 s on ONE value; 100,000 values get 5 s here.
      assert.ok(elapsed < 5000, `${pattern}: ${elapsed.toFixed(0)} ms over 100,000 values`);
      assert.equal(matched, 0, `${pattern} matches none of them (no "b", no final "Z")`);
    }
    // And they do match when the value allows it.
    assert.equal(match(HOSTILE[0]!, 'aaaaaaaab'), true);
    assert.equal(match(HOSTILE[1]!, `${'x'.repeat(18)}Z`), true);
    assert.equal(
      match(HOSTILE[1]!, `${'x'.repeat(17)}Z`),
      false,
      'each ? needs a character of its own',
    );
  });

  it('agrees with a reference DP matcher on 20,000 random patterns and values', () => {
    const random = rng(10);
    const alphabet = ['a', 'A', 'b', 'B', '*', '?', ' ', '^', 'é', 'É', 'ſ', 'S', 's'];
    const pick = (length: number, letters: string[]) =>
      Array.from({ length }, () => letters[Math.floor(random() * letters.length)]).join('');
    for (let i = 0; i < 20_000; i++) {
      const pattern = pick(Math.floor(random() * 9), alphabet);
      const value = pick(
        Math.floor(random() * 12),
        alphabet.filter((c) => c !== '*' && c !== '?').concat(['*', '?']),
      );
      assert.equal(
        match(pattern, value),
        reference(pattern, value),
        `pattern "${pattern}" value "${value}"`,
      );
    }
  });

  it('agrees with the RegExp it replaced on the cases the RegExp can answer quickly', () => {
    const old = (pattern: string) =>
      new RegExp(
        `^${pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
        'i',
      );
    const cases: Array<[string, string]> = [
      ['Doe*', 'doe^jane'],
      ['Doe^J?n*', 'Doe^Jane'],
      ['Doe^J?n*', 'Doe^John'],
      ['*ller*', 'Müller^Anna'],
      ['MÜLLER*', 'müller^anna'],
      ['STRASSE', 'straße'],
      ['K', '\u212a'],
      ['s', 'ſ'],
      ['a.b', 'axb'],
      ['(x)', '(X)'],
      ['', ''],
      ['*', ''],
      ['?', ''],
      ['**a**', 'ba'],
    ];
    for (const [pattern, value] of cases) {
      assert.equal(
        match(pattern, value),
        old(pattern).test(value),
        `pattern "${pattern}" value "${value}"`,
      );
    }
  });

  it(`a pattern of the bound's full length (${QIDO_MAX_PATTERN_LENGTH}) costs at most pattern × value steps`, () => {
    // The worst shape for the two-pointer walk: every star re-tried at every position.
    const pattern = `${'*a'.repeat(QIDO_MAX_PATTERN_LENGTH / 2 - 1)}*b`;
    assert.equal(pattern.length, QIDO_MAX_PATTERN_LENGTH);
    assert.equal(match(pattern, 'a'.repeat(64)), false);
    assert.equal(match(pattern, `${'a'.repeat(127)}b`), true);
  });
});
