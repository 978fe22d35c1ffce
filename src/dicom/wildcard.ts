/**
 * Wildcard matching of QIDO-RS keys (PS3.4 §C.2.2.2.4): `*` matches any run of characters
 * (also none), `?` exactly one, everything else itself, ignoring case.
 *
 * This replaces a RegExp built from the pattern: V8's backtracking engine takes time
 * exponential in the number of stars on a value that almost matches
 * (`*a*a*a*a*a*a*a*a*b`, issue 10 finding 2: one request held the server for over 30 s).
 * The matcher below is the greedy two-pointer walk that, on a mismatch, only ever retreats
 * to the LAST star seen: a later star can absorb anything an earlier one could, so earlier
 * stars never need revisiting. Its worst case is O(pattern × value) steps, no allocation,
 * no recursion.
 *
 * Plain Node: no `vscode` import.
 */

/**
 * The longest non-UID matching key the server accepts, in characters; longer ones are
 * refused with 400. PS3.5 §6.2 caps every searchable text VR here at 64 characters per
 * value (PN: 64 per component group, three groups and two `=`: 194), so no stored value can
 * equal a longer key; 256 leaves room for a CS comma list (`CT,MR,PT,…`). With it, one
 * value costs the matcher at most 256 × its length steps. (The Azure DICOM service refuses
 * over-long keys the same way: "the length of the value exceeds the VR's maximum".)
 */
export const QIDO_MAX_PATTERN_LENGTH = 256;

const STAR = -1;
const ANY = -2;

/**
 * A code unit as the old RegExp's `i` flag compared it: ECMA-262 Canonicalize for non-Unicode
 * patterns (§22.2.2.7.3), i.e. its upper case when that is one code unit, except that a
 * non-ASCII unit never folds onto an ASCII one (so `ſ` is not `S`, `K` (Kelvin) is not `K`).
 */
function fold(unit: number): number {
  if (unit < 128) return unit >= 97 && unit <= 122 ? unit - 32 : unit;
  let folded = foldCache.get(unit);
  if (folded === undefined) {
    const upper = String.fromCharCode(unit).toUpperCase();
    folded = upper.length !== 1 || upper.charCodeAt(0) < 128 ? unit : upper.charCodeAt(0);
    foldCache.set(unit, folded);
  }
  return folded;
}
const foldCache = new Map<number, number>();

/** A pattern compiled once per request: folded code units, `*` and `?` as markers. */
export interface WildcardPattern {
  readonly units: Int32Array;
  /** Index of the first and of the last `*`; -1 when there is none. */
  readonly firstStar: number;
  readonly lastStar: number;
}

export function compileWildcard(pattern: string): WildcardPattern {
  const units = new Int32Array(pattern.length);
  let firstStar = -1;
  let lastStar = -1;
  for (let i = 0; i < pattern.length; i++) {
    const unit = pattern.charCodeAt(i);
    if (unit === 42 /* * */) {
      units[i] = STAR;
      if (firstStar < 0) firstStar = i;
      lastStar = i;
    } else {
      units[i] = unit === 63 /* ? */ ? ANY : fold(unit);
    }
  }
  return { units, firstStar, lastStar };
}

/** The value's code units, folded once (reused between calls: matching is synchronous). */
let folded = new Int32Array(256);

function foldValue(value: string): Int32Array {
  if (folded.length < value.length)
    folded = new Int32Array(Math.max(value.length, folded.length * 2));
  for (let i = 0; i < value.length; i++) folded[i] = fold(value.charCodeAt(i));
  return folded;
}

/** Whether `p[from, to)` (no star in it) matches `v` from `at` on, unit for unit. */
function fixedAt(p: Int32Array, from: number, to: number, v: Int32Array, at: number): boolean {
  for (let i = from; i < to; i++) {
    const unit = p[i]!;
    if (unit !== ANY && unit !== v[at + i - from]) return false;
  }
  return true;
}

/**
 * Whether the whole of `value` matches the pattern. What comes before the first star must
 * match the value's start and what follows the last star its end (checked first: most values
 * fail there at once, e.g. `*a*a*a*a*a*a*a*a*b` against anything not ending in "b"). The
 * part between is walked greedily: a star first takes nothing; on a mismatch the last star
 * takes one more character and the walk resumes right after it.
 */
export function wildcardMatches(pattern: WildcardPattern, value: string): boolean {
  const { units: p, firstStar, lastStar } = pattern;
  if (firstStar < 0 && p.length !== value.length) return false;
  const v = foldValue(value);
  if (firstStar < 0) return fixedAt(p, 0, p.length, v, 0);
  const tail = p.length - lastStar - 1;
  const end = value.length - tail;
  if (end < firstStar) return false;
  if (!fixedAt(p, 0, firstStar, v, 0) || !fixedAt(p, lastStar + 1, p.length, v, end)) return false;
  const pn = lastStar + 1;
  let pi = firstStar;
  let vi = firstStar;
  let star = -1;
  let resume = 0;
  while (vi < end) {
    const unit = pi < pn ? p[pi]! : STAR;
    if (unit === ANY || (unit !== STAR && unit === v[vi])) {
      pi++;
      vi++;
    } else if (unit === STAR && pi < pn) {
      star = pi++;
      resume = vi;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++resume;
    } else {
      return false;
    }
  }
  while (pi < pn && p[pi] === STAR) pi++;
  return pi === pn;
}
