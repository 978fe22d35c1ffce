/**
 * A parsed data set as the rows of a tag table, as dcmdump and DICOM Tag Dump show it: tag,
 * keyword, VR, VM, length, value; sequences as items (numbered from 1) holding their
 * elements, to any depth; private elements named by their creator (PS3.5 §7.8.1); binary
 * values summarised with their length. Text is decoded with the Specific Character Set in
 * force for each data set: an item's own (0008,0005) replaces its parent's (PS3.5
 * §6.1.2.5.4). No `vscode` import: the custom editor (src/editor/) shows these rows.
 */
import type * as dicomParser from 'dicom-parser';
import { formatTag, isPrivateTag, lookupTag } from './dictionary';
import type { PixelDataExtent } from './headerReader';
import { ParserTag } from './tags';
import { textDecoder } from './charset';

/** Decodes one text value's bytes for its VR (the signature of charset.ts). */
export type TextDecode = (bytes: Uint8Array, vr: string) => string;
/** charset.ts's textDecoder: what a value's bytes say, and what was not as declared. */
export type TextDecoderFactory = (
  specificCharacterSet: string | readonly string[] | undefined,
  onWarning?: (warning: { message: string }) => void,
) => TextDecode;

/** The stated limits of {@link buildTagTable}; tests lower them to hit them. */
export interface TagTableLimits {
  /** Most rows (elements and items, at all depths). Default 500,000. */
  maxNodes: number;
  /** Deepest sequence nesting shown; deeper items are one row saying so. Default 64. */
  maxDepth: number;
  /** Characters of a value shown in a row (copy gives up to {@link maxCopyChars}). Default 256. */
  maxValueChars: number;
  /** Characters "Copy Value" gives. Default 1,048,576. */
  maxCopyChars: number;
}

export const DEFAULT_TAG_TABLE_LIMITS: Readonly<TagTableLimits> = {
  maxNodes: 500_000,
  maxDepth: 64,
  maxValueChars: 256,
  maxCopyChars: 1_048_576,
};

export type TagNodeKind = 'element' | 'sequence' | 'item' | 'pixelData' | 'note';

/** One row of the table and, for sequences and items, the rows under it. */
export interface TagNode {
  /** Child indexes from the root, joined with '.': "4", "4.0.2". */
  id: string;
  kind: TagNodeKind;
  /** "(0008,0016)"; "(FFFE,E000)" for an item; "" for a note. */
  tag: string;
  /** Keyword, "[Creator] (gggg,xxee)" for a private element, "Item 1" for an item. */
  name: string;
  vr: string;
  /** Values in the element; "" where it means nothing (items, notes). */
  vm: string;
  /** Value length in bytes as stored; undefined for an undefined length (PS3.5 §7.1.1). */
  length: number | undefined;
  /** The value as shown, at most {@link TagTableLimits.maxValueChars} characters. */
  value: string;
  /** `(0040,0275)[0].(0032,1060)` */
  tagPath: string;
  /** `RequestAttributesSequence[0].RequestedProcedureDescription` */
  keywordPath: string;
  children?: TagNode[];
  /** For the whole value on copy (undefined for items and notes). */
  source?: { element: dicomParser.Element; dataSet: dicomParser.DataSet; decode: TextDecode };
}

export interface TagTable {
  roots: TagNode[];
  /** Rows built, at all depths. */
  nodeCount: number;
  /** Limits hit while building, one sentence each. */
  problems: string[];
}

export interface BuildOptions {
  /** Pixel Data as located in the file (headerReader.ts): summarised from it. */
  pixelData?: PixelDataExtent;
  bigEndian?: boolean;
  decoder?: TextDecoderFactory;
  limits?: Partial<TagTableLimits>;
}

const TEXT_VRS = new Set([
  'AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT',
]); // prettier-ignore
/** Text VRs whose value is one value, backslash included (PS3.5 §6.2). */
const SINGLE_VALUE_TEXT_VRS = new Set(['LT', 'ST', 'UR', 'UT']);
const NUMBER_SIZES: Readonly<Record<string, number>> = {
  US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, SV: 8, UV: 8, AT: 4,
}; // prettier-ignore
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
/** Numeric values shown in a row before "…". */
const MAX_NUMBERS_SHOWN = 16;
/** Binary values this short show their bytes in hex. */
const HEX_SHOWN_UP_TO = 64;
const HEX_BYTES_SHOWN = 16;
const UNDEFINED_LENGTH = 0xffffffff;
/** Distinct character set warnings listed above the table. */
const MAX_CHARSET_PROBLEMS = 8;

class Builder {
  nodeCount = 0;
  readonly problems: string[] = [];
  private full = false;

  constructor(
    readonly options: BuildOptions,
    readonly limits: TagTableLimits,
    readonly decoderFor: TextDecoderFactory,
  ) {}

  dataSet(
    dataSet: dicomParser.DataSet,
    parent: { id: string; tagPath: string; keywordPath: string; depth: number },
    inherited: TextDecode | undefined,
  ): TagNode[] {
    // PS3.5 §6.1.2.5.4: an item's own Specific Character Set replaces the parent's.
    const own = dataSet.elements[ParserTag.SpecificCharacterSet];
    const decode =
      own || !inherited ? this.decoderFor(own ? charsetTerms(dataSet, own) : undefined) : inherited;
    const nodes: TagNode[] = [];
    for (const key of Object.keys(dataSet.elements).sort()) {
      if (this.nodeCount >= this.limits.maxNodes) {
        this.stop();
        break;
      }
      const element = dataSet.elements[key]!;
      const id = parent.id ? `${parent.id}.${nodes.length}` : String(nodes.length);
      nodes.push(this.element(element, dataSet, { ...parent, id }, decode));
    }
    return nodes;
  }

  private stop(): void {
    if (this.full) return;
    this.full = true;
    this.problems.push(
      `The data set has more than ${this.limits.maxNodes.toLocaleString('en-US')} elements and items: only the first ones are shown.`,
    );
  }

  private element(
    element: dicomParser.Element,
    dataSet: dicomParser.DataSet,
    at: { id: string; tagPath: string; keywordPath: string; depth: number },
    decode: TextDecode,
  ): TagNode {
    this.nodeCount++;
    const tag = element.tag.slice(1).toUpperCase();
    const shownTag = formatTag(tag);
    const info = lookupTag(tag);
    const name = elementName(tag, info?.keyword, dataSet);
    const vr = vrOf(element, info?.vr);
    const step = info?.keyword && !isPrivateTag(tag) ? info.keyword : shownTag;
    const node: TagNode = {
      id: at.id,
      kind: 'element',
      tag: shownTag,
      name,
      vr,
      vm: '',
      length: element.length === UNDEFINED_LENGTH ? undefined : element.length,
      value: '',
      tagPath: join(at.tagPath, shownTag),
      keywordPath: join(at.keywordPath, step),
      source: { element, dataSet, decode },
    };
    if (element.items) {
      this.sequence(node, element.items, at.depth, decode);
    } else if (element.tag === ParserTag.PixelData && at.depth === 0 && this.options.pixelData) {
      node.kind = 'pixelData';
      node.vm = '1';
      node.value = pixelDataSummary(this.options.pixelData, dataSet);
      if (this.options.pixelData.encapsulated) node.length = undefined;
    } else {
      const shown = formatValue(element, dataSet, vr, decode, {
        maxChars: this.limits.maxValueChars,
        bigEndian: this.bigEndianFor(tag),
        full: false,
      });
      node.vm = shown.vm;
      node.value = shown.text;
    }
    return node;
  }

  private sequence(
    node: TagNode,
    items: dicomParser.Element[],
    depth: number,
    decode: TextDecode,
  ): void {
    node.kind = 'sequence';
    node.vr = 'SQ';
    node.vm = '1';
    node.value = `${items.length} item${items.length === 1 ? '' : 's'}`;
    node.children = [];
    for (const [index, item] of items.entries()) {
      if (this.nodeCount >= this.limits.maxNodes) {
        this.stop();
        break;
      }
      this.nodeCount++;
      const itemNode: TagNode = {
        id: `${node.id}.${index}`,
        kind: 'item',
        tag: '(FFFE,E000)',
        name: `Item ${index + 1}`,
        vr: '',
        vm: '',
        length: item.hadUndefinedLength ? undefined : item.length,
        value: '',
        tagPath: `${node.tagPath}[${index}]`,
        keywordPath: `${node.keywordPath}[${index}]`,
      };
      if (depth + 1 >= this.limits.maxDepth) {
        itemNode.value = 'not shown';
        itemNode.children = [this.note(`${itemNode.id}.0`, depth)];
      } else if (item.dataSet) {
        itemNode.children = this.dataSet(
          item.dataSet,
          {
            id: itemNode.id,
            tagPath: itemNode.tagPath,
            keywordPath: itemNode.keywordPath,
            depth: depth + 1,
          },
          decode,
        );
        itemNode.value = `${itemNode.children.length} element${itemNode.children.length === 1 ? '' : 's'}`;
      }
      node.children.push(itemNode);
    }
  }

  private note(id: string, depth: number): TagNode {
    this.nodeCount++;
    const message = `Sequences nested deeper than ${this.limits.maxDepth} levels are not shown.`;
    if (!this.problems.includes(message)) this.problems.push(message);
    return {
      id,
      kind: 'note',
      tag: '',
      name: '…',
      vr: '',
      vm: '',
      length: undefined,
      value: `nested deeper than ${this.limits.maxDepth} levels (depth ${depth + 1})`,
      tagPath: '',
      keywordPath: '',
    };
  }

  /** File Meta (group 0002) is always little endian (PS3.10 §7.1). */
  private bigEndianFor(tag: string): boolean {
    return !!this.options.bigEndian && !tag.startsWith('0002');
  }
}

/**
 * The rows of a parsed data set (headerReader.ts or dicom-parser's parseDicom).
 * Elements are in tag order; items keep their order.
 */
export function buildTagTable(dataSet: dicomParser.DataSet, options: BuildOptions = {}): TagTable {
  const limits = { ...DEFAULT_TAG_TABLE_LIMITS, ...options.limits };
  const factory = options.decoder ?? textDecoder;
  const problems: string[] = [];
  // A character set warning (unknown term, bytes the set rejects) is a problem of the file:
  // said once, above the table.
  const builder = new Builder(options, limits, (terms) =>
    factory(terms, (warning) => {
      const text = `Text: ${warning.message}`;
      if (!problems.includes(text) && problems.length < MAX_CHARSET_PROBLEMS) problems.push(text);
    }),
  );
  const roots = builder.dataSet(
    dataSet,
    { id: '', tagPath: '', keywordPath: '', depth: 0 },
    undefined,
  );
  return { roots, nodeCount: builder.nodeCount, problems: [...builder.problems, ...problems] };
}

/** The node with this id, or undefined. */
export function findTagNode(table: TagTable, id: string): TagNode | undefined {
  if (!/^\d+(\.\d+)*$/.test(id)) return undefined;
  let nodes: TagNode[] | undefined = table.roots;
  let found: TagNode | undefined;
  for (const part of id.split('.')) {
    found = nodes?.[Number(part)];
    if (!found) return undefined;
    nodes = found.children;
  }
  return found;
}

/**
 * The whole value of a node, as "Copy Value" gives it: text decoded and unpadded, numbers
 * all of them, binary values in hex (at most {@link TagTableLimits.maxCopyChars} characters).
 */
export function fullValue(
  node: TagNode,
  options: { bigEndian?: boolean; maxChars?: number } = {},
): string {
  if (!node.source || node.kind === 'sequence' || node.kind === 'pixelData') return node.value;
  const { element, dataSet, decode } = node.source;
  const maxChars = options.maxChars ?? DEFAULT_TAG_TABLE_LIMITS.maxCopyChars;
  const bigEndian = !!options.bigEndian && !node.tag.startsWith('(0002');
  return formatValue(element, dataSet, node.vr, decode, { maxChars, bigEndian, full: true }).text;
}

function join(path: string, step: string): string {
  return path ? `${path}.${step}` : step;
}

/** The terms of (0008,0005), undecoded (they are default repertoire, PS3.5 §6.1.2.5.1). */
function charsetTerms(dataSet: dicomParser.DataSet, element: dicomParser.Element): string[] {
  const bytes = valueBytes(element, dataSet);
  return latin1(bytes)
    .split('\\')
    .map((term) => term.trim());
}

/** Keyword, "Private Creator", or "[Creator] (gggg,xxee)" (PS3.5 §7.8.1). */
function elementName(
  tag: string,
  keyword: string | undefined,
  dataSet: dicomParser.DataSet,
): string {
  if (!isPrivateTag(tag)) return keyword || (tag.endsWith('0000') ? 'GroupLength' : 'Unknown');
  const group = tag.slice(0, 4);
  const element = parseInt(tag.slice(4), 16);
  if (element === 0) return 'PrivateGroupLength';
  if (element >= 0x10 && element <= 0xff) return 'PrivateCreator';
  if (element < 0x1000) return `Private (${group},${tag.slice(4)})`;
  // The creator (gggg,00xx) reserves the block (gggg,xx00-xxFF) in the same data set.
  const block = tag.slice(4, 6).toLowerCase();
  const creatorElement = dataSet.elements[`x${group.toLowerCase()}00${block}`];
  const creator = creatorElement
    ? latin1(valueBytes(creatorElement, dataSet))
        .replace(/[\0 ]+$/, '')
        .trim()
    : '';
  const shown = `(${group},xx${tag.slice(6)})`;
  return creator ? `[${creator}] ${shown}` : `[no Private Creator] (${group},${tag.slice(4)})`;
}

/** The VR as stored (explicit VR), or the dictionary's (implicit VR: PS3.5 §A.1). */
function vrOf(element: dicomParser.Element, dictionaryVr: string | undefined): string {
  // A VR that is not two upper-case letters is garbage read as one (a malformed file).
  if (element.vr) return /^[A-Z]{2}$/.test(element.vr) ? element.vr : '??';
  if (element.items) return 'SQ';
  if (!dictionaryVr) return 'UN';
  // Implicit VR Little Endian: Pixel Data and other "OB or OW" are OW (PS3.5 §A.1).
  if (dictionaryVr.startsWith('OB or OW') || dictionaryVr === 'US or OW') return 'OW';
  if (dictionaryVr.startsWith('US or SS')) return 'US';
  return dictionaryVr.slice(0, 2);
}

function valueBytes(element: dicomParser.Element, dataSet: dicomParser.DataSet): Uint8Array {
  const bytes = dataSet.byteArray;
  if (element.length === UNDEFINED_LENGTH) return new Uint8Array();
  const end = Math.min(bytes.length, element.dataOffset + element.length);
  return bytes.subarray(Math.min(element.dataOffset, end), end);
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

interface Shown {
  vm: string;
  text: string;
}

function formatValue(
  element: dicomParser.Element,
  dataSet: dicomParser.DataSet,
  vr: string,
  decode: TextDecode,
  how: { maxChars: number; bigEndian: boolean; full: boolean },
): Shown {
  if (element.length === UNDEFINED_LENGTH && !element.items) {
    return { vm: '1', text: `${vr}, undefined length` };
  }
  const bytes = valueBytes(element, dataSet);
  const missing = element.length - bytes.length;
  let shown: Shown;
  if (element.length === 0) shown = { vm: '0', text: '' };
  else if (TEXT_VRS.has(vr)) shown = textValue(bytes, vr, decode);
  else if (NUMBER_SIZES[vr]) shown = numberValue(bytes, vr, how.bigEndian, how.full);
  else shown = binaryValue(bytes, vr, element.length, how.full);
  if (missing > 0) shown.text = `${shown.text} (file ends ${missing} bytes early)`;
  return { vm: shown.vm, text: cap(shown.text, how.maxChars) };
}

function cap(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

function textValue(bytes: Uint8Array, vr: string, decode: TextDecode): Shown {
  // Padding is a trailing space, or NUL for UI (PS3.5 §6.2); leading spaces are
  // insignificant except in the long texts.
  let text = decode(bytes, vr).replace(/[\0 ]+$/, '');
  if (!SINGLE_VALUE_TEXT_VRS.has(vr)) text = text.replace(/^ +/, '');
  const vm = SINGLE_VALUE_TEXT_VRS.has(vr) ? 1 : text.split('\\').length;
  return { vm: String(vm), text };
}

function numberValue(bytes: Uint8Array, vr: string, bigEndian: boolean, full: boolean): Shown {
  const size = NUMBER_SIZES[vr]!;
  const count = Math.floor(bytes.length / size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = !bigEndian;
  const values: string[] = [];
  const shownCount = full ? count : Math.min(count, MAX_NUMBERS_SHOWN);
  for (let index = 0; index < shownCount; index++) {
    const at = index * size;
    values.push(readNumber(view, at, vr, little));
  }
  const more = count > shownCount ? `\\… (${count.toLocaleString('en-US')} values)` : '';
  return { vm: String(count), text: values.join('\\') + more };
}

function readNumber(view: DataView, at: number, vr: string, little: boolean): string {
  switch (vr) {
    case 'US':
      return String(view.getUint16(at, little));
    case 'SS':
      return String(view.getInt16(at, little));
    case 'UL':
      return String(view.getUint32(at, little));
    case 'SL':
      return String(view.getInt32(at, little));
    case 'FL':
      return String(view.getFloat32(at, little));
    case 'FD':
      return String(view.getFloat64(at, little));
    case 'SV':
      return String(view.getBigInt64(at, little));
    case 'UV':
      return String(view.getBigUint64(at, little));
    default: {
      // AT: a tag as two US, group first (PS3.5 §6.2).
      const group = view.getUint16(at, little);
      const element = view.getUint16(at + 2, little);
      return formatTag(((group << 16) | element) >>> 0);
    }
  }
}

/** "OB, 1,048,576 bytes", and the first bytes in hex for short values. */
function binaryValue(bytes: Uint8Array, vr: string, length: number, full: boolean): Shown {
  const summary = `${BINARY_VRS.has(vr) ? vr : vr || 'UN'}, ${length.toLocaleString('en-US')} bytes`;
  if (full) return { vm: '1', text: hex(bytes, bytes.length) };
  if (length > HEX_SHOWN_UP_TO) return { vm: '1', text: summary };
  const more = bytes.length > HEX_BYTES_SHOWN ? ' …' : '';
  return { vm: '1', text: `${summary}: ${hex(bytes, HEX_BYTES_SHOWN)}${more}` };
}

function hex(bytes: Uint8Array, count: number): string {
  const parts: string[] = [];
  for (const byte of bytes.subarray(0, count)) parts.push(byte.toString(16).padStart(2, '0'));
  return parts.join(' ');
}

/** "OW, 1,048,576,000 bytes, 1,000 frames" or "OB, encapsulated: 1,000 fragments, …". */
function pixelDataSummary(extent: PixelDataExtent, dataSet: dicomParser.DataSet): string {
  const frames = numberOfFrames(dataSet);
  const framesText = frames
    ? `, ${frames.toLocaleString('en-US')} frame${frames === 1 ? '' : 's'}`
    : '';
  const truncated = extent.truncated ? ' (truncated)' : '';
  if (extent.fragmentsPending) {
    return `${extent.vr}, encapsulated${framesText}; locating its fragments…`;
  }
  if (!extent.encapsulated) {
    return `${extent.vr}, ${extent.length.toLocaleString('en-US')} bytes${framesText}${truncated}`;
  }
  const { fragments, basicOffsetTable } = extent.encapsulated;
  const table = basicOffsetTable.length
    ? `, Basic Offset Table of ${basicOffsetTable.length.toLocaleString('en-US')}`
    : ', empty Basic Offset Table';
  return `${extent.vr}, encapsulated: ${fragments.length.toLocaleString('en-US')} fragment${fragments.length === 1 ? '' : 's'}, ${extent.length.toLocaleString('en-US')} bytes${framesText}${table}${truncated}`;
}

function numberOfFrames(dataSet: dicomParser.DataSet): number | undefined {
  const element = dataSet.elements[ParserTag.NumberOfFrames];
  if (!element) return dataSet.elements[ParserTag.Rows] ? 1 : undefined;
  const value = parseInt(latin1(valueBytes(element, dataSet)), 10);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * Rewrites the top-level Pixel Data row from `extent` (after headerReader's
 * locateFragments filled it in); returns the row, or undefined when there is none.
 */
export function refreshPixelDataRow(
  table: TagTable,
  extent: PixelDataExtent,
  dataSet: dicomParser.DataSet,
): TagNode | undefined {
  const node = table.roots.find((root) => root.kind === 'pixelData');
  if (node) node.value = pixelDataSummary(extent, dataSet);
  return node;
}

/** One row of a filtered table: a node, its depth, and whether it matched itself. */
export interface FilteredRow {
  node: TagNode;
  depth: number;
  /** False for an ancestor kept visible for a matching row under it. */
  match: boolean;
}

/**
 * The rows matching `query` (case-insensitive, in the tag "(0008,0016)" / "00080016" /
 * "0008,0016", the name or keyword, or the value shown), each with its ancestors before it,
 * in table order; at most `maxRows` rows (`truncated` then says so).
 */
export function filterTagTable(
  table: TagTable,
  query: string,
  maxRows: number,
): { rows: FilteredRow[]; matches: number; truncated: boolean } {
  const needle = query.trim().toLowerCase();
  const rows: FilteredRow[] = [];
  let matches = 0;
  let truncated = false;
  const visit = (nodes: TagNode[], depth: number, ancestors: TagNode[]): void => {
    for (const node of nodes) {
      if (truncated) return;
      if (matchesQuery(node, needle)) {
        // Ancestors not yet emitted come first (they are emitted once, in order).
        const pending = ancestors.filter((ancestor) => !emitted.has(ancestor));
        if (rows.length + pending.length + 1 > maxRows) {
          truncated = true;
          return;
        }
        for (const ancestor of pending) {
          emitted.add(ancestor);
          rows.push({ node: ancestor, depth: ancestors.indexOf(ancestor), match: false });
        }
        matches++;
        emitted.add(node);
        rows.push({ node, depth, match: true });
      }
      if (node.children) visit(node.children, depth + 1, [...ancestors, node]);
    }
  };
  const emitted = new Set<TagNode>();
  visit(table.roots, 0, []);
  return { rows, matches, truncated };
}

function matchesQuery(node: TagNode, needle: string): boolean {
  if (!needle) return true;
  const compactTag = node.tag.replace(/[(),]/g, '').toLowerCase();
  const compactNeedle = needle.replace(/[(),\s]/g, '');
  return (
    node.tag.toLowerCase().includes(needle) ||
    (compactTag !== '' && compactNeedle !== '' && compactTag.includes(compactNeedle)) ||
    node.name.toLowerCase().includes(needle) ||
    node.value.toLowerCase().includes(needle)
  );
}
