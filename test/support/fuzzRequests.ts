/**
 * Seeded generators of hostile requests for the local server's fuzz suite
 * (test/server/fuzz.test.ts): random methods and garbage tokens, paths with encoded
 * traversal and odd UIDs, QIDO queries with random wildcards, STOW-RS bodies made of real
 * Part 10 instances cut at random places or framed by random, duplicated or missing
 * boundaries, Content-Lengths that lie both ways, chunked bodies with garbage sizes, foreign
 * Host and Origin headers, idle and half-sent requests.
 *
 * Each case is a {@link RawExchange} plus what it may store: the exact bytes of every
 * instance part it carries, so an acknowledged instance can be checked byte for byte.
 * A DELETE never names an instance a STOW of the run may have stored (the suite checks those
 * stay retrievable); it aims at the canary's UIDs, a study kept for deleting, or nothing.
 */
import { makeImageInstance, type ImageInstanceParams } from './dicomWriter';
import { uidFromString } from './bulkData';
import type { RawExchange } from './fuzzHttp';

export type Rng = () => number;

/** An instance the fuzzer knows: its UIDs and, when it sent it, its bytes. */
export interface KnownInstance {
  study: string;
  series: string;
  sop: string;
}

/** An instance carried by a STOW case, with the exact bytes of its part. */
export interface Carried extends KnownInstance {
  bytes: Buffer;
}

/** What the generators aim at. Arrays are live: the runner adds acknowledged instances. */
export interface FuzzWorld {
  port: number;
  /** Instances in the folder before the start: read, never deleted. */
  seeded: KnownInstance[];
  /** A multi-frame instance (for frame lists): read, never deleted. */
  multiFrame: KnownInstance & { frames: number };
  /** UIDs DELETE may aim at: the canary's (outside the root) and a study kept for deleting. */
  deletable: KnownInstance[];
  /** A study UID whose folder inside the root is a link into the canary: STOWs aim at it. */
  linkedStudyUid: string;
  /** Instances acknowledged so far (read by GETs, never deleted). */
  acknowledged: KnownInstance[];
  /** Names of the canary's files, for traversal paths (`../canary/<name>`). */
  canaryNames: string[];
  /** Folder name of the canary beside the root. */
  canaryDir: string;
}

/** One generated request. */
export interface FuzzCase extends RawExchange {
  /** Category, for the histogram and for replaying a failure. */
  kind: string;
  /** Instances whose parts this request carries, with their exact bytes. */
  carried: Carried[];
}

// ---------------------------------------------------------------- small random helpers

const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
const chance = (r: Rng, p: number): boolean => r() < p;
const CRLF = '\r\n';

/** Words of the seeded descriptions and names: wildcard patterns built from them nearly match. */
export const LONG_DESCRIPTION = 'CT CHEST ABDOMEN PELVIS WITH CONTRAST';
const PATTERN_LETTERS = 'CT HESABDOMNPLVIWRA^.0123456789-';

// ---------------------------------------------------------------- instances

let instanceCounter = 0;

/** A fresh real Part 10 instance (Secondary Capture), of one of three sizes. */
export function freshInstance(r: Rng, seed: number, studyUid?: string): Carried {
  const n = instanceCounter++;
  const study = studyUid ?? uidFromString(`fuzz-${seed}-study-${int(r, 0, 7)}`);
  const series = uidFromString(`fuzz-${seed}-series-${study}-${int(r, 0, 2)}`);
  const sop = uidFromString(`fuzz-${seed}-instance-${n}`);
  // Mostly tiny; some 8 KiB; a few of 288 KiB, above the server's 256 KiB in-memory part.
  const size = pick(r, [8, 8, 8, 8, 64, 64, 384] as const);
  const bits = size === 8 ? 8 : 16;
  const params: ImageInstanceParams = {
    studyUid: study,
    seriesUid: series,
    sopInstanceUid: sop,
    patientName: pick(r, ['Doe^Jane', 'PELVIS^ABDOMEN', 'Smith^John^^Dr', 'Muller^Jorg']),
    patientId: `FUZZ-${n}`,
    studyDate: pick(r, ['20240101', '19991231', '20000229']),
    modality: pick(r, ['CT', 'MR', 'OT']),
    rows: size,
    columns: size,
    samplesPerPixel: 1,
    photometric: 'MONOCHROME2',
    bitsAllocated: bits,
    pixelData:
      bits === 8
        ? new Uint8Array(size * size).map((_, i) => (i * 7 + n) & 0xff)
        : new Uint16Array(size * size).map((_, i) => (i * 13 + n) & 0xffff),
    instanceNumber: n,
    seriesNumber: 1,
    studyDescription: pick(r, [LONG_DESCRIPTION, 'Fuzz study', 'MR BRAIN W/O', '']),
    seriesDescription: `Series ${n}`,
    accessionNumber: `ACC${n}`,
  };
  return { study, series, sop, bytes: Buffer.from(makeImageInstance(params)) };
}

// ---------------------------------------------------------------- UIDs and paths

/** Path segments where a UID goes: valid, unknown, malformed, encoded traversal, huge. */
function uidSegment(
  r: Rng,
  world: FuzzWorld,
  pool: readonly KnownInstance[],
  level: keyof KnownInstance,
): string {
  const roll = r();
  if (roll < 0.5 && pool.length) return pick(r, pool)[level];
  if (roll < 0.6) return `1.2.826.0.1.3680043.10.${int(r, 1, 1e9)}`;
  const canary = pick(r, world.canaryNames);
  return pick(r, [
    `..%2f..%2f${world.canaryDir}%2f${canary}`,
    `..%252f..%252f${world.canaryDir}%252f${canary}`,
    `%2e%2e%2f%2e%2e%2f${world.canaryDir}`,
    `%2e%2e`,
    '..',
    '.',
    `..%5c..%5c${world.canaryDir}%5c${canary}`,
    `%c0%ae%c0%ae%c0%af${world.canaryDir}`,
    `1.2.3%00.4`,
    `${pool.length ? pick(r, pool)[level] : '1.2.3'}%00../../x`,
    `1.2.3%2f..%2f..%2f${world.canaryDir}`,
    '9'.repeat(int(r, 65, 3000)),
    '1.2.'.repeat(int(r, 20, 400)),
    '%ZZ',
    '%',
    '%e2%80%ae',
    '*',
    '1.2.3;x=1',
    'a..b',
    '.dicomweb',
    '%2edicomweb',
    `${world.linkedStudyUid}%2f..%2f..%2f${world.canaryDir}`,
  ]);
}

const GOOD_PREFIXES = ['', '/v1', '/v2', '/v2', '/v2', '/v1.0-prerelease'];
const ODD_PREFIXES = ['/v99', '/V2', '/%76%32', '/v2/..', '//v2', '/v2;', '/v2%2f'];
/** A version prefix (the Azure DICOM service's `/v{n}`), odd one time in five. */
const prefixOf = (r: Rng): string =>
  chance(r, 0.8) ? pick(r, GOOD_PREFIXES) : pick(r, ODD_PREFIXES);

/** A frame list: small, long with duplicates (memory), out of range, or not a list at all. */
function frameList(r: Rng, frames: number): string {
  const roll = r();
  if (roll < 0.3) return Array.from({ length: int(r, 1, 4) }, () => int(r, 1, frames)).join(',');
  if (roll < 0.55)
    return Array.from({ length: int(r, 50, 1500) }, () => int(r, 1, Math.min(frames, 2))).join(',');
  if (roll < 0.7) return String(int(r, frames + 1, 1e6));
  return pick(r, [
    '0',
    '-1',
    '1,,2',
    '1,a',
    '',
    '1.5',
    '99999999999999999999999',
    '1%2c2',
    ',',
    '1,'.repeat(int(r, 1, 3000)),
    '0x1',
    ' 1',
  ]);
}

/** Paths of the WADO-RS, QIDO-RS and DELETE surface, with random levels and tails. */
export function resourcePath(r: Rng, world: FuzzWorld, deleting: boolean): string {
  const readable = [...world.seeded, world.multiFrame, ...world.acknowledged, ...world.deletable];
  const pool = deleting ? world.deletable : readable;
  const target =
    chance(r, 0.25) && !deleting ? world.multiFrame : pool.length ? pick(r, pool) : undefined;
  const prefix = prefixOf(r);
  const studyUid = target && chance(r, 0.8) ? target.study : uidSegment(r, world, pool, 'study');
  const seriesUid = target && chance(r, 0.8) ? target.series : uidSegment(r, world, pool, 'series');
  const sopUid = target && chance(r, 0.8) ? target.sop : uidSegment(r, world, pool, 'sop');
  const depth = int(r, 0, 3);
  let path = `${prefix}/studies`;
  if (depth === 0) return path + pick(r, ['', '/', '/series', '/instances', '/metadata']);
  path += `/${studyUid}`;
  if (depth === 1)
    return (
      path + pick(r, ['', '', '/metadata', '/series', '/instances', '/rendered', '/thumbnail', '/'])
    );
  path += `/series/${seriesUid}`;
  if (depth === 2)
    return path + pick(r, ['', '', '/metadata', '/instances', '/rendered', '/x/y/z']);
  path += `/instances/${sopUid}`;
  const frames = target === world.multiFrame ? world.multiFrame.frames : 1;
  return (
    path +
    pick(r, [
      '',
      '',
      '/metadata',
      `/frames/${frameList(r, frames)}`,
      `/frames/${frameList(r, frames)}`,
      `/frames/${frameList(r, frames)}/rendered`,
      '/rendered',
      '/thumbnail',
      `/bulkdata/${pick(r, ['7FE00010', '7fe00010', '00100010', 'ZZZZZZZZ', '7FE00010/1', '00081140/0/00081155', '..', '%2e%2e%2f'])}`,
    ])
  );
}

/**
 * A frame retrieve of the multi-frame instance: mostly lists of duplicates (issue 10, finding 5).
 */
function framesPath(r: Rng, world: FuzzWorld): string {
  const m = world.multiFrame;
  return `${prefixOf(r)}/studies/${m.study}/series/${m.series}/instances/${m.sop}/frames/${frameList(r, m.frames)}`;
}

/** Paths that try to leave the served folder. */
function traversalPath(r: Rng, world: FuzzWorld): string {
  const canary = pick(r, world.canaryNames);
  const up = (encode: (s: string) => string): string =>
    Array.from({ length: int(r, 1, 6) }, () => encode('../')).join('');
  const encoders: Array<(s: string) => string> = [
    (s) => s,
    (s) => s.replace(/\//g, '%2f'),
    (s) => s.replace(/\./g, '%2e').replace(/\//g, '%2f'),
    (s) => s.replace(/\//g, '%252f'),
    (s) => s.replace(/\./g, '%252e'),
    (s) => s.replace(/\//g, '%5c'),
    (s) => s.replace(/\//g, '\\'),
    (s) => s.replace(/\./g, '%c0%ae'),
  ];
  const encode = pick(r, encoders);
  const prefix = prefixOf(r);
  return pick(r, [
    `${prefix}/${up(encode)}${world.canaryDir}/${canary}`,
    `${prefix}/studies/${up(encode)}${world.canaryDir}/${canary}`,
    `${prefix}/studies/${encode(`../${world.canaryDir}/${canary}`)}`,
    `${prefix}/studies/${pick(r, world.seeded).study}/series/${up(encode)}${world.canaryDir}`,
    `${prefix}/studies/${world.linkedStudyUid}/series/${up(encode)}${world.canaryDir}/${canary}`,
    `${prefix}/.dicomweb/index.json`,
    `${prefix}/studies/.dicomweb`,
    `${prefix}/${world.canaryDir}/${canary}`,
    `/${up(encode)}etc/passwd`,
    `${prefix}/linked-file.dcm`,
    `${prefix}/linked-dir/`,
    `http://127.0.0.1:${world.port}/${up(encode)}${world.canaryDir}/${canary}`,
    '*',
  ]);
}

// ---------------------------------------------------------------- queries

/** A wildcard pattern: random, pathological for a backtracking matcher, or very long. */
export function wildcardPattern(r: Rng): string {
  const roll = r();
  if (roll < 0.2) {
    // PS3.4 §C.2.2.2.4 wildcards; `*a*a*a…*b` and `*?*?…*Z` make a backtracking RegExp explode.
    const c = pick(r, [...'ACTEHS ']);
    const unit = pick(r, [`*${c}`, '*?', '?*', `*${c}?`]);
    return unit.repeat(int(r, 6, 40)) + pick(r, ['*b', '*Z', 'Q', '*q*']);
  }
  if (roll < 0.3) return pick(r, ['*', '?', 'A', '\\', '%2A']).repeat(int(r, 100, 5000));
  const tokens = [
    '*',
    '?',
    '*?',
    '?*',
    '\\*',
    '.',
    '(',
    ')',
    '[',
    ']',
    '+',
    '^',
    '$',
    '|',
    '{2}',
    '%2A',
    '%3F',
    '%00',
  ];
  return Array.from({ length: int(r, 1, 60) }, () =>
    chance(r, 0.45) ? pick(r, tokens) : pick(r, [...PATTERN_LETTERS]),
  ).join('');
}

const QUERY_KEYS = [
  'StudyDescription',
  'PatientName',
  'PatientID',
  'AccessionNumber',
  'ModalitiesInStudy',
  'Modality',
  'SeriesDescription',
  'StudyDate',
  'StudyTime',
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'SOPInstanceUID',
  'ReferringPhysicianName',
  '00081030',
  '00100010',
  '0020000D',
  '7FE00010',
  'includefield',
  'limit',
  'offset',
  'fuzzymatching',
  'patientname',
  'STUDYDESCRIPTION',
  'NoSuchKeyword',
  '00081140.00081155',
  'PatientName.Alphabetic',
  '',
  '%00',
  'a'.repeat(300),
];

function queryValue(r: Rng, key: string, world: FuzzWorld): string {
  const lower = key.toLowerCase();
  if (lower === 'limit' || lower === 'offset') {
    if (chance(r, 0.5)) return String(int(r, 0, 200));
    return pick(r, [
      '0',
      '-1',
      '201',
      '1e3',
      'abc',
      '99999999999999999999',
      '',
      '1.5',
      ' 1',
      '0x10',
      String(int(r, 0, 500)),
    ]);
  }
  if (lower === 'fuzzymatching') return pick(r, ['true', 'false', 'TRUE', 'yes', '', '1']);
  if (lower === 'includefield')
    return pick(r, [
      'all',
      '00081030',
      'StudyDescription,PatientName',
      'nosuch',
      '7FE00010',
      '',
      ','.repeat(100),
    ]);
  if (/date|time/i.test(key))
    return pick(r, [
      '20240101',
      '20240101-',
      '-20240101',
      '19000101-20991231',
      '2024*',
      '-',
      '--',
      'x-y',
      '20240101-20230101',
    ]);
  if (/uid|0020000d/i.test(key)) {
    const uids = [...world.seeded, ...world.acknowledged].map((i) => i.study);
    return Array.from({ length: int(r, 1, 5) }, () =>
      uids.length && chance(r, 0.6) ? pick(r, uids) : pick(r, ['1.2.3', '*', '..', '1.2.3%00']),
    ).join(pick(r, [',', '\\', '%5C']));
  }
  return wildcardPattern(r);
}

/** Percent-encodes a few characters of a query value (or leaves it raw, spaces included). */
function encodeQueryPart(r: Rng, value: string): string {
  const roll = r();
  if (roll < 0.5) return encodeURIComponent(value).replace(/%25([0-9A-F]{2})/g, '%$1');
  if (roll < 0.8) return value.replace(/ /g, '+').replace(/[#\r\n]/g, '');
  return value.replace(/[ #\r\n]/g, '%20');
}

/** Text attributes the server matches with wildcards (PS3.18 §8.3.4.1). */
const MATCHED_KEYS = [
  'StudyDescription',
  'PatientName',
  'PatientID',
  'AccessionNumber',
  'SeriesDescription',
  'ReferringPhysicianName',
  '00081030',
  'patientname',
];

/**
 * A query string: mostly one matching key with a wildcard pattern first (so most patterns
 * reach the matcher), then 0–4 random keys, sometimes repeated, sometimes without `=`.
 */
export function queryString(r: Rng, world: FuzzWorld): string {
  const params: string[] = [];
  if (chance(r, 0.7))
    params.push(`${pick(r, MATCHED_KEYS)}=${encodeQueryPart(r, wildcardPattern(r))}`);
  for (let i = int(r, 0, chance(r, 0.6) ? 1 : 4); i > 0; i--) {
    const key = pick(r, QUERY_KEYS);
    if (chance(r, 0.05)) params.push(encodeQueryPart(r, key));
    else params.push(`${encodeQueryPart(r, key)}=${encodeQueryPart(r, queryValue(r, key, world))}`);
  }
  return params.length || chance(r, 0.5)
    ? `?${params.join(pick(r, ['&', '&', '&', '&&', ';']))}`
    : '';
}

function qidoPath(r: Rng, world: FuzzWorld): string {
  const study = pick(r, [...world.seeded, ...world.acknowledged]).study;
  return (
    prefixOf(r) +
    pick(r, [
      '/studies',
      '/studies',
      '/series',
      '/instances',
      `/studies/${study}/series`,
      `/studies/${study}/instances`,
      '/studies/',
    ])
  );
}

// ---------------------------------------------------------------- headers

const ACCEPTS = [
  'application/dicom+json',
  'application/json',
  '*/*',
  'multipart/related; type="application/dicom"; transfer-syntax=*',
  'multipart/related; type=application/dicom',
  'multipart/related; type="application/octet-stream"; transfer-syntax=*',
  'multipart/related; type="application/octet-stream"',
  'application/octet-stream',
  'application/dicom',
  'image/jpeg',
  'text/html',
  'multipart/related; type="image/jpeg"',
  'multipart/related',
  ';;;;',
  'application/dicom+json;q=0, */*;q=0',
  'multipart/related; type="application/dicom"; transfer-syntax="1.2.840.10008.1.2.4.50"',
  `${'text/plain, '.repeat(300)}application/dicom+json`,
  '',
];

/** What a QIDO or metadata request would ask for (PS3.18 §10.6.3, §10.4.1.1.2). */
const JSON_ACCEPTS = [
  'application/dicom+json',
  'application/dicom+json',
  'application/json',
  '*/*',
];
/** What a frame or instance retrieve would ask for (PS3.18 §8.7.3.5). */
const PART_ACCEPTS = [
  'multipart/related; type="application/octet-stream"; transfer-syntax=*',
  'multipart/related; type="application/dicom"; transfer-syntax=*',
  'multipart/related; type="application/octet-stream"',
  'multipart/related; type=application/dicom',
  '*/*',
];

/**
 * Host, Origin and other request headers; mostly sane, sometimes foreign or odd. `accepts`:
 * the Accept values a real client of this resource would send, used three times in four (else
 * any Accept, or none), so most requests get past content negotiation to the code behind it.
 */
function commonHeaders(
  r: Rng,
  world: FuzzWorld,
  accepts: readonly string[] = ACCEPTS,
): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const own = `127.0.0.1:${world.port}`;
  const host = chance(r, 0.9)
    ? own
    : pick(r, [
        'evil.example',
        `evil.example:${world.port}`,
        `localhost:${world.port}`,
        `[::1]:${world.port}`,
        '',
        '127.0.0.1:1',
        `${own}\tx`,
        'a'.repeat(300),
      ]);
  if (host !== '' || chance(r, 0.5)) headers.push(['Host', host]);
  if (chance(r, 0.03)) headers.push(['Host', 'evil.example']);
  if (chance(r, 0.08))
    headers.push([
      'Origin',
      pick(r, ['http://evil.example', 'null', `http://${own}`, 'http://localhost:3000', 'file://']),
    ]);
  if (chance(r, 0.75)) headers.push(['Accept', pick(r, accepts)]);
  else if (chance(r, 0.8)) headers.push(['Accept', pick(r, ACCEPTS)]);
  if (chance(r, 0.05))
    headers.push([
      'Authorization',
      pick(r, ['Bearer x', 'bearer ', 'Basic Zm9vOmJhcg==', 'Bearer ' + 'A'.repeat(5000)]),
    ]);
  if (chance(r, 0.03)) headers.push(['Expect', '100-continue']);
  if (chance(r, 0.02)) headers.push(['X-Huge', 'x'.repeat(int(r, 8_000, 40_000))]);
  if (chance(r, 0.9)) headers.push(['Connection', 'close']);
  return headers;
}

function requestHead(
  method: string,
  target: string,
  headers: Array<[string, string]>,
  version = 'HTTP/1.1',
): string {
  return `${method} ${target} ${version}${CRLF}${headers.map(([name, value]) => `${name}: ${value}${CRLF}`).join('')}${CRLF}`;
}

const TIMEOUT_MS = 4_000;

function plainCase(
  kind: string,
  method: string,
  target: string,
  headers: Array<[string, string]>,
  body?: Buffer,
): FuzzCase {
  const head = Buffer.from(
    requestHead(
      method,
      target,
      body ? [...headers, ['Content-Length', String(body.length)]] : headers,
    ),
    'latin1',
  );
  return {
    kind,
    bytes: body ? Buffer.concat([head, body]) : head,
    after: 'read',
    timeoutMs: TIMEOUT_MS,
    head: method === 'HEAD',
    carried: [],
  };
}

// ---------------------------------------------------------------- STOW bodies

const BOUNDARY_CHARS =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";

/** An RFC 2046 §5.1.1 boundary (1–70 characters, not ending in a space), sometimes odd. */
function boundary(r: Rng): string {
  if (chance(r, 0.1))
    return pick(r, ['', '-', '--', 'x'.repeat(71), 'DICM', '\r\n', 'a"b', '—unicode—']);
  const length = int(r, 1, 70);
  return Array.from({ length }, (_, i) =>
    i === length - 1 ? pick(r, [...BOUNDARY_CHARS.trim()]) : pick(r, [...BOUNDARY_CHARS]),
  ).join('');
}

function contentTypeFor(r: Rng, mark: string): string {
  const quoted = /[^0-9A-Za-z'+_\-.]/.test(mark) || chance(r, 0.5);
  const b = quoted ? `"${mark}"` : mark;
  return pick(r, [
    `multipart/related; type="application/dicom"; boundary=${b}`,
    `multipart/related; type=application/dicom; boundary=${b}`,
    `multipart/related; boundary=${b}`,
    `Multipart/Related; boundary=${b}; type="application/dicom"`,
  ]);
}

interface Part {
  headers: string;
  body: Buffer;
}

function dicomPart(r: Rng, instance: Carried): Part {
  const type = pick(r, [
    'application/dicom',
    'application/dicom',
    'application/octet-stream',
    'application/dicom; transfer-syntax=1.2.840.10008.1.2.1',
  ]);
  return { headers: `Content-Type: ${type}${CRLF}`, body: instance.bytes };
}

function multipartBody(mark: string, parts: Part[], preamble = '', epilogue = ''): Buffer {
  const chunks: Buffer[] = [Buffer.from(preamble)];
  for (const part of parts)
    chunks.push(
      Buffer.from(`--${mark}${CRLF}${part.headers}${CRLF}`, 'latin1'),
      part.body,
      Buffer.from(CRLF),
    );
  chunks.push(Buffer.from(`--${mark}--${CRLF}${epilogue}`, 'latin1'));
  return Buffer.concat(chunks);
}

/** The path of a STOW: `/studies` or `/studies/{study}` (matching or not). */
function stowPath(r: Rng, world: FuzzWorld, study: string): string {
  const prefix = pick(r, ['/v2', '/v2', '/v1', '', '/v1.0-prerelease']);
  return chance(r, 0.7)
    ? `${prefix}/studies`
    : `${prefix}/studies/${chance(r, 0.85) ? study : pick(r, world.seeded).study}`;
}

/** A well-formed STOW of 1–4 fresh instances (multipart, or a single application/dicom body). */
export function validStow(r: Rng, world: FuzzWorld, seed: number): FuzzCase {
  const study = chance(r, 0.15) ? world.linkedStudyUid : undefined;
  const instances = Array.from({ length: int(r, 1, 4) }, () => freshInstance(r, seed, study));
  const headers: Array<[string, string]> = [
    ['Host', `127.0.0.1:${world.port}`],
    ['Connection', 'close'],
  ];
  if (chance(r, 0.7)) headers.push(['Accept', 'application/dicom+json']);
  if (chance(r, 0.25)) {
    const one = instances[0]!;
    return {
      ...plainCase(
        'stow-valid-single',
        'POST',
        stowPath(r, world, one.study),
        [...headers, ['Content-Type', 'application/dicom']],
        one.bytes,
      ),
      carried: [one],
    };
  }
  let mark = boundary(r);
  if (!/^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/.test(mark))
    mark = `b${int(r, 0, 1e9)}`;
  const body = multipartBody(
    mark,
    instances.map((i) => dicomPart(r, i)),
    chance(r, 0.1) ? 'preamble text\r\n' : '',
    chance(r, 0.1) ? 'epilogue' : '',
  );
  return {
    ...plainCase(
      'stow-valid-multipart',
      'POST',
      stowPath(r, world, instances[0]!.study),
      [...headers, ['Content-Type', contentTypeFor(r, mark)]],
      body,
    ),
    carried: instances,
  };
}

/** A STOW whose body or framing is broken in one random way. */
export function mangledStow(r: Rng, world: FuzzWorld, seed: number): FuzzCase {
  const instances = Array.from({ length: int(r, 1, 3) }, () => freshInstance(r, seed));
  const mark = `fz${int(r, 0, 1e9)}`;
  const parts = instances.map((i) => dicomPart(r, i));
  const headers: Array<[string, string]> = [
    ['Host', `127.0.0.1:${world.port}`],
    ['Connection', 'close'],
    ['Accept', 'application/dicom+json'],
  ];
  let contentType = contentTypeFor(r, mark);
  let body: Buffer;
  let carried = instances;
  const variant = pick(r, [
    'cut',
    'cut',
    'cut',
    'other-boundary',
    'no-boundary-param',
    'duplicated-delimiters',
    'no-close-delimiter',
    'bare-lf',
    'garbage-part-headers',
    'huge-part-headers',
    'text-part',
    'nested',
    'empty',
    'single-cut',
    'boundary-in-data',
    'no-crlf-after-delimiter',
  ] as const);
  switch (variant) {
    case 'cut': {
      const whole = multipartBody(mark, parts);
      body = whole.subarray(0, int(r, 0, whole.length - 1));
      break;
    }
    case 'other-boundary':
      body = multipartBody(`${mark}x`, parts);
      break;
    case 'no-boundary-param':
      contentType = 'multipart/related; type="application/dicom"';
      body = multipartBody(mark, parts);
      break;
    case 'duplicated-delimiters':
      body = Buffer.concat([
        Buffer.from(`--${mark}${CRLF}--${mark}${CRLF}`),
        multipartBody(mark, parts),
      ]);
      break;
    case 'no-close-delimiter': {
      const whole = multipartBody(mark, parts);
      body = whole.subarray(0, whole.length - (mark.length + 6));
      break;
    }
    case 'bare-lf':
      body = Buffer.from(
        multipartBody(mark, parts).toString('latin1').replace(/\r\n/g, '\n'),
        'latin1',
      );
      carried = [];
      break;
    case 'garbage-part-headers':
      body = multipartBody(
        mark,
        parts.map((p) => ({
          headers: pick(r, [
            'Content-Type application/dicom\r\n',
            'X: \0\r\n',
            ': x\r\n',
            'Content-Type: \r\n',
            '\r\n\r\n',
          ]),
          body: p.body,
        })),
      );
      break;
    case 'huge-part-headers':
      body = multipartBody(
        mark,
        parts.map((p) => ({
          headers: `X-Pad: ${'p'.repeat(int(r, 17_000, 70_000))}${CRLF}${p.headers}`,
          body: p.body,
        })),
      );
      break;
    case 'text-part':
      body = multipartBody(mark, [
        ...parts,
        { headers: 'Content-Type: text/plain\r\n', body: Buffer.from('not dicom') },
      ]);
      break;
    case 'nested':
      body = multipartBody(mark, [
        {
          headers: `Content-Type: multipart/related; boundary=inner${CRLF}`,
          body: multipartBody('inner', parts),
        },
      ]);
      carried = [];
      break;
    case 'empty':
      body = Buffer.alloc(0);
      break;
    case 'single-cut': {
      // A single-part body cut short, with an honest length: the server sees a truncated file.
      const one = instances[0]!;
      const cut = { ...one, bytes: one.bytes.subarray(0, int(r, 0, one.bytes.length - 1)) };
      return {
        ...plainCase(
          'stow-mangled-single-cut',
          'POST',
          stowPath(r, world, one.study),
          [...headers, ['Content-Type', 'application/dicom']],
          cut.bytes,
        ),
        carried: [cut],
      };
    }
    case 'boundary-in-data':
      // The delimiter appears inside a part's data: the part ends there (RFC 2046 §5.1.1).
      body = multipartBody(
        mark,
        parts.map((p) => ({
          headers: p.headers,
          body: Buffer.concat([
            p.body.subarray(0, 200),
            Buffer.from(`${CRLF}--${mark}${CRLF}`),
            p.body.subarray(200),
          ]),
        })),
      );
      carried = [];
      break;
    case 'no-crlf-after-delimiter':
      body = Buffer.from(
        multipartBody(mark, parts).toString('latin1').replace(`--${mark}${CRLF}`, `--${mark}`),
        'latin1',
      );
      break;
  }
  const kase = plainCase(
    `stow-mangled-${variant}`,
    'POST',
    stowPath(r, world, instances[0]!.study),
    [...headers, ['Content-Type', contentType]],
    body,
  );
  return { ...kase, carried };
}

/** A STOW whose Content-Length or Transfer-Encoding lies about the body. */
export function lyingStow(r: Rng, world: FuzzWorld, seed: number): FuzzCase {
  const instance = freshInstance(r, seed);
  const mark = `ly${int(r, 0, 1e9)}`;
  const single = chance(r, 0.4);
  const body = single ? instance.bytes : multipartBody(mark, [dicomPart(r, instance)]);
  const type: [string, string] = [
    'Content-Type',
    single ? 'application/dicom' : contentTypeFor(r, mark),
  ];
  const base: Array<[string, string]> = [
    ['Host', `127.0.0.1:${world.port}`],
    ['Accept', 'application/dicom+json'],
    type,
  ];
  const path = stowPath(r, world, instance.study);
  const variant = pick(r, [
    'shorter',
    'shorter',
    'longer-fin',
    'longer-hold',
    'huge-declared',
    'cl-and-te',
    'two-lengths',
    'garbage-length',
    'chunked-garbage',
    'chunked-valid',
    'chunked-short',
  ] as const);
  const make = (
    headers: Array<[string, string]>,
    bytes: Buffer,
    after: FuzzCase['after'] = 'read',
    carried: Carried[] = [],
  ): FuzzCase => ({
    kind: `lying-${variant}`,
    bytes: Buffer.concat([
      Buffer.from(requestHead('POST', path, [...base, ...headers]), 'latin1'),
      bytes,
    ]),
    after,
    holdMs: int(r, 200, 1_200),
    timeoutMs: TIMEOUT_MS,
    carried,
  });
  switch (variant) {
    case 'shorter': {
      // The server reads Content-Length bytes; the rest arrives as a (garbage) next request.
      const length = int(r, 0, body.length - 1);
      const received = single ? [{ ...instance, bytes: body.subarray(0, length) }] : [];
      return make(
        [
          ['Content-Length', String(length)],
          ['Connection', 'close'],
        ],
        body,
        'read',
        received,
      );
    }
    case 'longer-fin':
      return make(
        [['Content-Length', String(body.length + int(r, 1, 100_000))]],
        body,
        'half-close',
        [instance],
      );
    case 'longer-hold':
      return make([['Content-Length', String(body.length + int(r, 1, 100_000))]], body, 'hold', [
        instance,
      ]);
    case 'huge-declared':
      return make(
        [
          [
            'Content-Length',
            pick(r, ['2147483648', '9007199254740993', '99999999999999999999999']),
          ],
        ],
        body.subarray(0, int(r, 0, 2000)),
        pick(r, ['hold', 'half-close'] as const),
      );
    case 'cl-and-te':
      return make(
        [
          ['Content-Length', String(body.length)],
          ['Transfer-Encoding', 'chunked'],
        ],
        body,
        'half-close',
      );
    case 'two-lengths':
      return make(
        [
          ['Content-Length', String(body.length)],
          ['Content-Length', String(body.length + 1)],
        ],
        body,
        'half-close',
      );
    case 'garbage-length':
      return make(
        [
          [
            'Content-Length',
            pick(r, [
              '-1',
              '1e3',
              '0x10',
              ` ${body.length}`,
              `${body.length}, ${body.length}`,
              'abc',
              '+5',
            ]),
          ],
        ],
        body,
        'half-close',
      );
    case 'chunked-valid':
    case 'chunked-short': {
      const chunks: Buffer[] = [];
      for (let at = 0; at < body.length;) {
        const size = Math.min(body.length - at, int(r, 1, 70_000));
        chunks.push(
          Buffer.from(`${size.toString(16)}${pick(r, ['', ';ext=1'])}${CRLF}`),
          body.subarray(at, at + size),
          Buffer.from(CRLF),
        );
        at += size;
      }
      if (variant === 'chunked-valid') {
        chunks.push(Buffer.from(`0${CRLF}${CRLF}`));
        return make(
          [
            ['Transfer-Encoding', 'chunked'],
            ['Connection', 'close'],
          ],
          Buffer.concat(chunks),
          'read',
          [instance],
        );
      }
      return make(
        [['Transfer-Encoding', 'chunked']],
        Buffer.concat(chunks.slice(0, int(r, 0, chunks.length))),
        pick(r, ['hold', 'half-close'] as const),
        [instance],
      );
    }
    case 'chunked-garbage': {
      const size = pick(r, [
        'fffffffffffffffff',
        '-5',
        'zz',
        '1 ',
        '0000000000000000000000001',
        '7fffffffffffffff',
        '10000000',
        '',
        ' 10',
      ]);
      return make(
        [
          [
            'Transfer-Encoding',
            pick(r, ['chunked', 'Chunked', 'gzip, chunked', 'chunked, gzip', 'identity']),
          ],
        ],
        Buffer.from(`${size}${CRLF}${'x'.repeat(int(r, 0, 64))}${CRLF}`),
        pick(r, ['hold', 'half-close'] as const),
      );
    }
  }
}

// ---------------------------------------------------------------- everything else

const METHODS = [
  'GET',
  'GET',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'TRACE',
  'PROPFIND',
  'QUERY',
  'SEARCH',
  'get',
  'G\tET',
  'GET\0',
  'M'.repeat(80),
  'CONNECT',
];

/** A request line or header block that is not quite HTTP. */
function malformedRequest(r: Rng, world: FuzzWorld): FuzzCase {
  const host = `Host: 127.0.0.1:${world.port}\r\n`;
  const text = pick(r, [
    `GET /v2/studies HTTP/1.1\n${host.trim()}\n\n`,
    `GET /v2/studies HTTP/0.9\r\n\r\n`,
    `GET /v2/studies HTTP/2.0\r\n${host}\r\n`,
    `GET /v2/studies HTTP/1.1\r\n${host}X: a\r\n  folded\r\n\r\n`,
    `GET /v2/studies HTTP/1.1\r\n${host}X-Nul: a\0b\r\n\r\n`,
    `GET /v2/studies HTTP/1.1\r\n${host}no colon here\r\n\r\n`,
    `GET /v2/studies\r\n\r\n`,
    `GET  /v2/studies  HTTP/1.1\r\n${host}\r\n`,
    `GET /v2/studies?${'a=b&'.repeat(int(r, 1000, 6000))} HTTP/1.1\r\n${host}\r\n`,
    `GET /v2/studies HTTP/1.1\r\n${host}${'X-A: b\r\n'.repeat(int(r, 100, 3000))}\r\n`,
    `GET /v2/studies HTTP/1.1\r\n${host}\r\nGET /v2/series HTTP/1.1\r\n${host}\r\n`,
    `\r\n\r\n\r\nGET /v2/studies HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    Buffer.from(Array.from({ length: int(r, 1, 400) }, () => int(r, 0, 255))).toString('latin1'),
    `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`,
    `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03`,
  ]);
  return {
    kind: 'malformed',
    bytes: Buffer.from(text, 'latin1'),
    after: pick(r, ['read', 'half-close'] as const),
    timeoutMs: 2_000,
    carried: [],
  };
}

/** A connection that sends nothing, or half a header block, then stays silent. */
function idleConnection(r: Rng, world: FuzzWorld): FuzzCase {
  const text = pick(r, [
    '',
    'GET /v2/studies HTTP/1.1\r\n',
    `GET /v2/studies HTTP/1.1\r\nHost: 127.0.0.1:${world.port}\r\nAccept: applic`,
  ]);
  return {
    kind: 'idle',
    bytes: Buffer.from(text),
    after: 'hold',
    holdMs: int(r, 200, 1_500),
    timeoutMs: TIMEOUT_MS,
    carried: [],
  };
}

/** A request with a random method on a random path, with a random small body sometimes. */
function randomRequest(r: Rng, world: FuzzWorld): FuzzCase {
  const method = pick(r, METHODS);
  const deleting = method === 'DELETE';
  const path = chance(r, 0.15) ? traversalPath(r, world) : resourcePath(r, world, deleting);
  const target = path + (chance(r, 0.3) ? queryString(r, world) : '');
  const headers = commonHeaders(r, world);
  if (method === 'OPTIONS' && chance(r, 0.7))
    headers.push(['Access-Control-Request-Method', pick(r, ['DELETE', 'GET', 'POST'])]);
  const body = chance(r, 0.1) ? Buffer.from('x'.repeat(int(r, 0, 3000))) : undefined;
  return plainCase(
    `method-${/^[A-Z]{1,9}$/.test(method) ? method : 'garbage'}`,
    method,
    target,
    headers,
    body,
  );
}

/**
 * The next case. Mix (per 100): 24 QIDO with random queries, 14 WADO-RS reads of random
 * levels, 4 frame lists, 8 traversal paths, 12 well-formed STOWs, 12 mangled STOWs, 9 lying
 * lengths or chunked bodies, 6 DELETEs, 6 random methods, 3 malformed, 2 idle.
 */
export function nextCase(r: Rng, world: FuzzWorld, seed: number): FuzzCase {
  const roll = int(r, 0, 99);
  if (roll < 24)
    return plainCase(
      'qido',
      'GET',
      qidoPath(r, world) + queryString(r, world),
      commonHeaders(r, world, JSON_ACCEPTS),
    );
  if (roll < 38) {
    const path = resourcePath(r, world, false);
    const accepts = /\/metadata$/.test(path) ? JSON_ACCEPTS : PART_ACCEPTS;
    return plainCase(
      'wado',
      pick(r, ['GET', 'GET', 'GET', 'HEAD']),
      path + (chance(r, 0.1) ? queryString(r, world) : ''),
      commonHeaders(r, world, accepts),
    );
  }
  if (roll < 42)
    return plainCase('frames', 'GET', framesPath(r, world), commonHeaders(r, world, PART_ACCEPTS));
  if (roll < 50)
    return plainCase(
      'traversal',
      pick(r, ['GET', 'GET', 'DELETE', 'POST', 'HEAD']),
      traversalPath(r, world),
      commonHeaders(r, world),
    );
  if (roll < 62) return validStow(r, world, seed);
  if (roll < 74) return mangledStow(r, world, seed);
  if (roll < 83) return lyingStow(r, world, seed);
  if (roll < 89)
    return plainCase('delete', 'DELETE', resourcePath(r, world, true), commonHeaders(r, world));
  if (roll < 95) return randomRequest(r, world);
  if (roll < 98) return malformedRequest(r, world);
  return idleConnection(r, world);
}
