/**
 * The local server's index: every stored instance with the attributes QIDO-RS matches and
 * returns, kept in memory as a study → series → instance tree for fast searches, and
 * persisted as one JSON file (written to a temporary file, fsynced, renamed: never half a
 * file). The .dcm files are the truth; the index is rebuilt from them when it is missing,
 * damaged or of another version.
 *
 * Plain Node: no `vscode` import.
 */
import type * as dicomParser from 'dicom-parser';
import { rawString } from '../dicom/dataSetJson';
import { isIndexPath } from './jail';
import type { InstanceIdentity } from '../dicom/part10';
import { Tag, ParserTag } from '../dicom/tags';

export type Level = 'study' | 'series' | 'instance';
const LEVEL_RANK: Record<Level, number> = { study: 0, series: 1, instance: 2 };

/** Attribute values as stored in the file, values joined by `\` (PS3.5 §6.4). */
export type Attrs = Record<string, string>;

/** An attribute the index knows: where it lives, its VR, and whether QIDO returns it by default. */
export interface FieldSpec {
  tag: string;
  keyword: string;
  vr: string;
  level: Level;
  /** Returned without includefield (PS3.18 §10.6.3.3, Tables 10.6.3-3, -5, -7). */
  isDefault: boolean;
  /** Derived from the tree rather than read from a file. */
  computed?: (node: StudyNode | SeriesNode | InstanceNode) => string | undefined;
  /** Reads the value from a data set (extended query tags, extendedQueryTags.ts). */
  read?: (dataSet: dicomParser.DataSet) => string | undefined;
  /** Why the value does not fit the field's VR, checked at STOW (extendedQueryTags.ts). */
  check?: (dataSet: dicomParser.DataSet) => { error?: string; multiple?: boolean };
}

const stored = (
  tag: string,
  keyword: string,
  vr: string,
  level: Level,
  isDefault: boolean,
): FieldSpec => ({ tag, keyword, vr, level, isDefault });

/**
 * An attribute derived from the tree (availability, modalities, counts): every one is among
 * the defaults of its level (PS3.18 Tables 10.6.3-3/-5).
 */
const derived = (
  tag: string,
  keyword: string,
  vr: string,
  level: Level,
  computed: NonNullable<FieldSpec['computed']>,
): FieldSpec => ({ tag, keyword, vr, level, isDefault: true, computed });

/** The modalities of a study's series, sorted, joined by `\` (PS3.5 §6.4). */
function modalitiesInStudy(study: StudyNode): string | undefined {
  const found = new Set<string>();
  for (const series of study.series.values()) {
    const modality = series.attrs[Tag.Modality];
    if (modality) found.add(modality);
  }
  return found.size ? [...found].sort().join('\\') : undefined;
}

/**
 * The attributes kept per level. The defaults follow PS3.18 Tables 10.6.3-3/-5/-7; the
 * searchable ones cover the Azure DICOM service's conformance statement (study: PatientName,
 * PatientID, PatientBirthDate, AccessionNumber, ReferringPhysicianName, StudyDate,
 * StudyDescription, ModalitiesInStudy; series: Modality, PerformedProcedureStepStartDate,
 * ManufacturerModelName; instance: SOPInstanceUID) and a few more people ask for.
 */
export const FIELDS: readonly FieldSpec[] = [
  stored(Tag.StudyDate, 'StudyDate', 'DA', 'study', true),
  stored(Tag.StudyTime, 'StudyTime', 'TM', 'study', true),
  stored(Tag.AccessionNumber, 'AccessionNumber', 'SH', 'study', true),
  derived(Tag.InstanceAvailability, 'InstanceAvailability', 'CS', 'study', () => 'ONLINE'),
  derived(Tag.ModalitiesInStudy, 'ModalitiesInStudy', 'CS', 'study', (node) =>
    modalitiesInStudy(node as StudyNode),
  ),
  stored(Tag.ReferringPhysicianName, 'ReferringPhysicianName', 'PN', 'study', true),
  stored(Tag.TimezoneOffsetFromUTC, 'TimezoneOffsetFromUTC', 'SH', 'study', true),
  stored(Tag.StudyDescription, 'StudyDescription', 'LO', 'study', true),
  stored(Tag.PatientName, 'PatientName', 'PN', 'study', true),
  stored(Tag.PatientID, 'PatientID', 'LO', 'study', true),
  stored(Tag.PatientBirthDate, 'PatientBirthDate', 'DA', 'study', true),
  stored(Tag.PatientSex, 'PatientSex', 'CS', 'study', true),
  stored(Tag.PatientAge, 'PatientAge', 'AS', 'study', false),
  stored(Tag.StudyInstanceUID, 'StudyInstanceUID', 'UI', 'study', true),
  stored(Tag.StudyID, 'StudyID', 'SH', 'study', true),
  derived(Tag.NumberOfStudyRelatedSeries, 'NumberOfStudyRelatedSeries', 'IS', 'study', (node) =>
    String((node as StudyNode).series.size),
  ),
  derived(
    Tag.NumberOfStudyRelatedInstances,
    'NumberOfStudyRelatedInstances',
    'IS',
    'study',
    (node) => String((node as StudyNode).instanceCount),
  ),

  stored(Tag.SeriesDate, 'SeriesDate', 'DA', 'series', false),
  stored(Tag.SeriesTime, 'SeriesTime', 'TM', 'series', false),
  stored(Tag.Modality, 'Modality', 'CS', 'series', true),
  stored(Tag.Manufacturer, 'Manufacturer', 'LO', 'series', false),
  stored(Tag.SeriesDescription, 'SeriesDescription', 'LO', 'series', true),
  stored(Tag.ManufacturerModelName, 'ManufacturerModelName', 'LO', 'series', false),
  stored(Tag.BodyPartExamined, 'BodyPartExamined', 'CS', 'series', false),
  stored(Tag.SeriesInstanceUID, 'SeriesInstanceUID', 'UI', 'series', true),
  stored(Tag.SeriesNumber, 'SeriesNumber', 'IS', 'series', true),
  derived(
    Tag.NumberOfSeriesRelatedInstances,
    'NumberOfSeriesRelatedInstances',
    'IS',
    'series',
    (node) => String((node as SeriesNode).instances.size),
  ),
  stored(
    Tag.PerformedProcedureStepStartDate,
    'PerformedProcedureStepStartDate',
    'DA',
    'series',
    true,
  ),
  stored(
    Tag.PerformedProcedureStepStartTime,
    'PerformedProcedureStepStartTime',
    'TM',
    'series',
    true,
  ),

  stored(Tag.ImageType, 'ImageType', 'CS', 'instance', false),
  stored(Tag.SOPClassUID, 'SOPClassUID', 'UI', 'instance', true),
  stored(Tag.SOPInstanceUID, 'SOPInstanceUID', 'UI', 'instance', true),
  stored(Tag.ContentDate, 'ContentDate', 'DA', 'instance', false),
  stored(Tag.ContentTime, 'ContentTime', 'TM', 'instance', false),
  stored(Tag.InstanceNumber, 'InstanceNumber', 'IS', 'instance', true),
  stored(Tag.PhotometricInterpretation, 'PhotometricInterpretation', 'CS', 'instance', false),
  stored(Tag.NumberOfFrames, 'NumberOfFrames', 'IS', 'instance', true),
  stored(Tag.Rows, 'Rows', 'US', 'instance', true),
  stored(Tag.Columns, 'Columns', 'US', 'instance', true),
  stored(Tag.BitsAllocated, 'BitsAllocated', 'US', 'instance', true),
];

/** Fields by tag and by keyword. */
export const FIELD_BY_TAG: ReadonlyMap<string, FieldSpec> = new Map(FIELDS.map((f) => [f.tag, f]));
export const FIELD_BY_KEYWORD: ReadonlyMap<string, FieldSpec> = new Map(
  FIELDS.map((f) => [f.keyword, f]),
);

export function levelAtMost(level: Level, limit: Level): boolean {
  return LEVEL_RANK[level] <= LEVEL_RANK[limit];
}

export interface StudyNode {
  uid: string;
  seq: number;
  attrs: Attrs;
  series: Map<string, SeriesNode>;
  instanceCount: number;
}
export interface SeriesNode {
  uid: string;
  study: StudyNode;
  seq: number;
  attrs: Attrs;
  instances: Map<string, InstanceNode>;
}
export interface InstanceNode {
  uid: string;
  series: SeriesNode;
  seq: number;
  attrs: Attrs;
  /** Path relative to the served folder, with `/` separators. */
  file: string;
  size: number;
  mtimeMs: number;
  transferSyntaxUid: string;
}

/** One instance as read from its file, before it joins the tree. */
export interface InstanceEntry {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  file: string;
  size: number;
  mtimeMs: number;
  transferSyntaxUid: string;
  study: Attrs;
  series: Attrs;
  instance: Attrs;
}

/** Builds an index entry from a parsed header, the instance's identity and where its file is. */
export function entryFromDataSet(
  dataSet: dicomParser.DataSet,
  identity: Pick<
    InstanceIdentity,
    'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid' | 'transferSyntaxUid'
  >,
  where: { file: string; size: number; mtimeMs: number },
  /** Extended query tags being indexed (Adding or Ready): their values join the entry. */
  extra: readonly FieldSpec[] = [],
): InstanceEntry {
  const facts = {
    studyUid: identity.studyInstanceUid,
    seriesUid: identity.seriesInstanceUid,
    sopUid: identity.sopInstanceUid,
    transferSyntaxUid: identity.transferSyntaxUid,
    ...where,
  };
  const attrs: Record<Level, Attrs> = { study: {}, series: {}, instance: {} };
  for (const field of FIELDS) {
    if (field.computed) continue;
    const value = rawString(dataSet, `x${field.tag.toLowerCase()}`, field.vr);
    if (value !== undefined) attrs[field.level][field.tag] = value;
  }
  for (const field of extra) {
    const value = field.read?.(dataSet);
    if (value !== undefined) attrs[field.level][field.tag] = value;
  }
  return { ...facts, study: attrs.study, series: attrs.series, instance: attrs.instance };
}

/** The UIDs of an instance's identity and where they are in the data set. */
const IDENTITY_UIDS = [
  ['StudyInstanceUID', ParserTag.StudyInstanceUID, 'studyInstanceUid'],
  ['SeriesInstanceUID', ParserTag.SeriesInstanceUID, 'seriesInstanceUid'],
  ['SOPInstanceUID', ParserTag.SOPInstanceUID, 'sopInstanceUid'],
  ['SOPClassUID', ParserTag.SOPClassUID, 'sopClassUid'],
] as const;

/**
 * Why the identity's UIDs cannot be trusted, or undefined. src/dicom/part10.ts reads a UI
 * value with dicom-parser's string(), which stops at the first NUL, so "1.2.3\0.4" came out
 * as "1.2.3" and merged with that study (issue 10, finding 6). PS3.5 §9.1 allows a NUL in a
 * UID only as the one trailing pad to an even length (§6.2: trailing spaces are tolerated,
 * as every reader does); so the value is read here from its bytes, only the trailing padding
 * removed, and must equal the identity's. A NUL anywhere else makes the UID invalid.
 */
export function uidProblem(
  dataSet: dicomParser.DataSet,
  identity: Pick<
    InstanceIdentity,
    'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid' | 'sopClassUid'
  >,
): string | undefined {
  for (const [name, tag, key] of IDENTITY_UIDS) {
    const stored = rawString(dataSet, tag, 'UI') ?? '';
    if (stored.includes('\0')) return `${name} has a NUL inside it (PS3.5 §9.1): not a valid UID`;
    if (stored.trim() !== identity[key])
      return `${name} reads differently from the file (it changed while being read)`;
  }
  return undefined;
}

export type AddResult =
  | { kind: 'added'; node: InstanceNode }
  /** The same instance at the same file: size/time refreshed. */
  | { kind: 'updated'; node: InstanceNode }
  /** Another file already holds this SOP Instance UID. */
  | { kind: 'duplicate'; existing: InstanceNode }
  /** The series UID is already used by another study. */
  | { kind: 'conflict'; message: string };

const INDEX_FORMAT = 'dicomweb-explorer/local-index';
const INDEX_VERSION = 1;

/**
 * The in-memory index. All mutations are synchronous, so concurrent requests see a consistent tree.
 */
export class Catalog {
  readonly studies = new Map<string, StudyNode>();
  readonly seriesByUid = new Map<string, SeriesNode>();
  readonly instancesByUid = new Map<string, InstanceNode>();
  readonly byPath = new Map<string, InstanceNode>();
  /** Files known not to be DICOM instances, by path: `size:mtimeMs`, so a rescan skips them. */
  readonly rejected = new Map<string, string>();
  private seq = 0;
  /** Bumped on every change; the persister compares it. */
  version = 0;

  get instanceCount(): number {
    return this.instancesByUid.size;
  }

  /** Adds an instance (see {@link AddResult}); never replaces another file's instance. */
  add(entry: InstanceEntry, seq?: number): AddResult {
    const existing = this.instancesByUid.get(entry.sopUid);
    if (existing) {
      if (existing.file === entry.file) {
        existing.size = entry.size;
        existing.mtimeMs = entry.mtimeMs;
        this.version++;
        return { kind: 'updated', node: existing };
      }
      return { kind: 'duplicate', existing };
    }
    const knownSeries = this.seriesByUid.get(entry.seriesUid);
    if (knownSeries && knownSeries.study.uid !== entry.studyUid) {
      return {
        kind: 'conflict',
        message: `series ${entry.seriesUid} already belongs to study ${knownSeries.study.uid}`,
      };
    }
    const order = seq ?? ++this.seq;
    if (order > this.seq) this.seq = order;
    let study = this.studies.get(entry.studyUid);
    if (!study) {
      study = {
        uid: entry.studyUid,
        seq: order,
        attrs: { ...entry.study, [Tag.StudyInstanceUID]: entry.studyUid },
        series: new Map(),
        instanceCount: 0,
      };
      this.studies.set(study.uid, study);
    }
    let series = knownSeries;
    if (!series) {
      series = {
        uid: entry.seriesUid,
        study,
        seq: order,
        attrs: { ...entry.series, [Tag.SeriesInstanceUID]: entry.seriesUid },
        instances: new Map(),
      };
      study.series.set(series.uid, series);
      this.seriesByUid.set(series.uid, series);
    }
    // Extended query tags: a study or series takes the newest instance's value (as Azure
    // updates its study/series rows on each store); the built-in attributes keep the first.
    mergeExtended(study.attrs, entry.study);
    mergeExtended(series.attrs, entry.series);
    // Newest first (Azure pages newest-first): a parent is as new as its newest child.
    study.seq = Math.max(study.seq, order);
    series.seq = Math.max(series.seq, order);
    const node: InstanceNode = {
      uid: entry.sopUid,
      series,
      seq: order,
      attrs: { ...entry.instance, [Tag.SOPInstanceUID]: entry.sopUid },
      file: entry.file,
      size: entry.size,
      mtimeMs: entry.mtimeMs,
      transferSyntaxUid: entry.transferSyntaxUid,
    };
    series.instances.set(node.uid, node);
    study.instanceCount++;
    this.instancesByUid.set(node.uid, node);
    this.byPath.set(node.file, node);
    this.rejected.delete(node.file);
    this.version++;
    return { kind: 'added', node };
  }

  /** Removes one instance (and its series/study when they become empty). */
  removeInstance(node: InstanceNode): void {
    if (this.instancesByUid.get(node.uid) !== node) return;
    this.instancesByUid.delete(node.uid);
    if (this.byPath.get(node.file) === node) this.byPath.delete(node.file);
    const series = node.series;
    series.instances.delete(node.uid);
    series.study.instanceCount--;
    if (series.instances.size === 0) {
      series.study.series.delete(series.uid);
      this.seriesByUid.delete(series.uid);
      if (series.study.series.size === 0) this.studies.delete(series.study.uid);
    }
    this.version++;
  }

  /** Instances of a study, a series of it, or one instance; empty when the path names nothing. */
  resolve(studyUid: string, seriesUid?: string, sopUid?: string): InstanceNode[] {
    const study = this.studies.get(studyUid);
    if (!study) return [];
    if (!seriesUid) return [...study.series.values()].flatMap((series) => sortedInstances(series));
    const series = study.series.get(seriesUid);
    if (!series) return [];
    if (!sopUid) return sortedInstances(series);
    const instance = series.instances.get(sopUid);
    return instance ? [instance] : [];
  }

  markRejected(file: string, size: number, mtimeMs: number): void {
    this.rejected.set(file, `${size}:${mtimeMs}`);
    this.version++;
  }

  /** The persisted form (see {@link Catalog.fromJson}). */
  toJson(): string {
    const studies: unknown[] = [];
    const series: unknown[] = [];
    const instances: unknown[] = [];
    for (const study of this.studies.values()) {
      studies.push([study.uid, study.attrs]);
      for (const s of study.series.values()) {
        series.push([s.uid, study.uid, s.attrs]);
        for (const i of s.instances.values()) {
          instances.push([
            i.uid,
            s.uid,
            i.file,
            i.size,
            i.mtimeMs,
            i.seq,
            i.transferSyntaxUid,
            i.attrs,
          ]);
        }
      }
    }
    return JSON.stringify({
      format: INDEX_FORMAT,
      version: INDEX_VERSION,
      count: instances.length,
      studies,
      series,
      instances,
      rejected: [...this.rejected],
    });
  }

  /**
   * Reads a persisted index. Throws on anything unexpected (wrong format or version, a
   * count that disagrees, a dangling parent): the caller then rebuilds from the files.
   */
  static fromJson(text: string): Catalog {
    const data = JSON.parse(text) as {
      format?: unknown;
      version?: unknown;
      count?: unknown;
      studies?: Array<[string, Attrs]>;
      series?: Array<[string, string, Attrs]>;
      instances?: Array<[string, string, string, number, number, number, string, Attrs]>;
      rejected?: Array<[string, string]>;
    };
    if (data.format !== INDEX_FORMAT || data.version !== INDEX_VERSION)
      throw new Error('not an index of this version');
    if (
      !Array.isArray(data.studies) ||
      !Array.isArray(data.series) ||
      !Array.isArray(data.instances) ||
      data.count !== data.instances.length
    ) {
      throw new Error('index is incomplete');
    }
    const catalog = new Catalog();
    const studyAttrs = new Map(data.studies.map(([uid, attrs]) => [uid, attrs]));
    const seriesInfo = new Map(data.series.map(([uid, study, attrs]) => [uid, { study, attrs }]));
    for (const [sop, seriesUid, file, size, mtimeMs, seq, ts, attrs] of data.instances) {
      const series = seriesInfo.get(seriesUid);
      const study = series && studyAttrs.get(series.study);
      if (!series || !study || typeof sop !== 'string' || typeof file !== 'string')
        throw new Error('index has a dangling instance');
      // The index never names a path outside the folder (issue 10): absolute, `..`, hidden.
      if (!isIndexPath(file))
        throw new Error(
          `index names a path outside the folder: ${JSON.stringify(file.slice(0, 80))}`,
        );
      const result = catalog.add(
        {
          studyUid: series.study,
          seriesUid,
          sopUid: sop,
          file,
          size,
          mtimeMs,
          transferSyntaxUid: ts,
          study,
          series: series.attrs,
          instance: attrs,
        },
        seq,
      );
      if (result.kind !== 'added') throw new Error('index has a duplicate instance');
    }
    for (const [file, stamp] of data.rejected ?? [])
      if (isIndexPath(file)) catalog.rejected.set(file, stamp);
    catalog.version = 0;
    return catalog;
  }
}

function mergeExtended(target: Attrs, source: Attrs): void {
  for (const key in source) if (!FIELD_BY_TAG.has(key)) target[key] = source[key]!;
}

/** Instances of a series by InstanceNumber, then arrival. */
export function sortedInstances(series: SeriesNode): InstanceNode[] {
  return [...series.instances.values()].sort((a, b) => {
    const na = Number(a.attrs[Tag.InstanceNumber] ?? NaN);
    const nb = Number(b.attrs[Tag.InstanceNumber] ?? NaN);
    if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
    return a.seq - b.seq;
  });
}
