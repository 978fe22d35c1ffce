/**
 * The local server's extended query tags and their reindex operations: the tags live in
 * `.dicomweb/extended-query-tags.json` (written to a temporary file, fsynced, renamed, like
 * the index), their values in the index itself (catalog attrs keyed by the tag), so QIDO
 * matches them as it matches the built-in attributes.
 *
 * Adding tags starts one reindex operation (as Azure does per POST) that walks the stored
 * instances with bounded concurrency, reads each tag's value, records the values that do not
 * fit the VR as errors with the instance's UIDs, then marks the tags Ready. A tag with errors
 * has its QueryStatus set to Disabled (Azure: a partly indexed tag is not queried until it is
 * enabled again by PATCH). Deleting a tag while it is being added cancels its part of the
 * operation; the operation ends `canceled` when none of its tags remains.
 *
 * What survives a restart: the tags (status, QueryStatus, errors kept) and the operations
 * (their last persisted status and percent). A running reindex resumes where it was, as
 * Azure's does (its ReindexDurableFunction continues from a ReindexCheckpoint's watermark):
 * the instances are walked in one order (partition, then SOP Instance UID), in batches; after
 * a batch, at most every {@link CHECKPOINT_MIN_INSTANCES} instances and never more than a
 * fifth of the time, the index is written, then a checkpoint (the watermark, the tags' error
 * counts up to it, the percent) in this module's state file. At start the operation goes on
 * after its watermark: instances at or below it are not read again, errors recorded past it
 * are dropped before their instances are indexed again (each instance counts once per tag,
 * as Azure's AddExtendedQueryTagError merges on tag and watermark), and the percent goes on
 * from the one persisted, so it never goes back.
 *
 * Plain Node: no `vscode` import.
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceNode } from './catalog';
import { readInstanceHeader } from './dicomFiles';
import {
  MAX_ERRORS_KEPT_PER_TAG,
  MAX_EXTENDED_QUERY_TAGS,
  catalogLevel,
  fieldOf,
  readTagValue,
  validateAddRequest,
  type ExtendedTag,
  type QueryStatus,
} from './extendedQueryTags';
import { replaceFileDurably } from './durableFile';
import { HttpError } from './httpUtil';
import { storedFile } from './jail';
import { OperationRegistry, isEnded, type Operation, type ReindexCheckpoint } from './operations';
import type { FieldSpec } from './catalog';
import type { PartitionSet } from './partitions';
import type { Log, Storage } from './storage';

const STATE_FILE = 'extended-query-tags.json';
const STATE_FORMAT = 'dicomweb-explorer/extended-query-tags';
const STATE_VERSION = 1;
/** Instances read at once by a reindex: enough to overlap file reads, few enough to leave the
 * server's requests their share of the disk and the event loop. */
export const REINDEX_CONCURRENCY = 4;
/** Instances between two checkpoints, at least (Azure: a batch of 100 × 10 in parallel). */
export const CHECKPOINT_MIN_INSTANCES = 500;
/** Instances read per batch: a checkpoint is taken between batches, never inside one. */
const REINDEX_BATCH = 64;
/** A checkpoint waits this many times as long as the last one took (index write and fsyncs),
 * so checkpoints take at most a fifth of a reindex over a large folder. */
const CHECKPOINT_COST_FACTOR = 4;

export interface ExtendedQueryTagOptions {
  /** Most tags (default 128, Azure's). */
  maxTags?: number;
  /** Errors kept per tag (default 1000). */
  maxErrorsPerTag?: number;
}

interface RunningReindex {
  operation: Operation;
  /** Paths of the tags still being added by this operation. */
  paths: Set<string>;
  done?: Promise<void>;
}

/** Tags and an operation written as they will be, before they are answered so (finish). */
interface StateAhead {
  tags: ReadonlyMap<string, ExtendedTag>;
  operation: Operation;
}

/** An instance to reindex, in the storage it lives in. */
interface ReindexItem {
  storage: Storage;
  node: InstanceNode;
  /** Its place in the reindex order: partition folder, NUL, SOP Instance UID. */
  key: string;
}

/** Progress of a run since its start or resume, for its checkpoints. */
interface RunProgress {
  /** The percent persisted when the run began: it goes on from there. */
  startPercent: number;
  /** Instances after the watermark when the run began. */
  total: number;
  done: number;
  sinceCheckpoint: number;
  lastCheckpointAt: number;
  lastCheckpointCostMs: number;
  /** Storages whose index gained values since the last checkpoint. */
  touched: Set<Storage>;
}

export class ExtendedQueryTagService {
  readonly tags = new Map<string, ExtendedTag>();
  readonly operations = new OperationRegistry();
  private readonly running = new Map<string, RunningReindex>();
  private readonly maxTags: number;
  private readonly maxErrorsPerTag: number;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;
  /** The data partitions, when on: tags are the service's, indexed in every partition. */
  private partitions: PartitionSet | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly log: Log,
    options: ExtendedQueryTagOptions = {},
  ) {
    this.maxTags = options.maxTags ?? MAX_EXTENDED_QUERY_TAGS;
    this.maxErrorsPerTag = options.maxErrorsPerTag ?? MAX_ERRORS_KEPT_PER_TAG;
  }

  private get stateFile(): string {
    return join(this.storage.stateDir, STATE_FILE);
  }

  /**
   * Reads the persisted tags (before the index is opened, so an index rebuilt from the files
   * reads their values too). A damaged file is logged and set aside: no tag is then known.
   */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log(`extended query tags: ${(error as Error).message}`);
      return;
    }
    try {
      const data = JSON.parse(text) as {
        format?: unknown;
        version?: unknown;
        tags?: ExtendedTag[];
        operations?: Operation[];
      };
      if (data.format !== STATE_FORMAT || data.version !== STATE_VERSION)
        throw new Error('not a state file of this version');
      for (const tag of data.tags ?? []) this.tags.set(tag.path, tag);
      this.operations.restore(data.operations ?? []);
    } catch (error) {
      this.log(
        `extended query tags: ${STATE_FILE} is unreadable (${(error as Error).message}); starting without tags`,
      );
      await rename(this.stateFile, `${this.stateFile}.damaged`).catch(() => undefined);
    }
    this.publishFields();
  }

  /** With data partitions on, the tags index and match in every partition (Azure: one list). */
  attachPartitions(partitions: PartitionSet | undefined): void {
    this.partitions = partitions;
    this.publishFields();
  }

  /** The storages open now: the served folder's, and each opened partition's. */
  private openStorages(): Storage[] {
    return this.partitions ? this.partitions.openedStorages() : [this.storage];
  }

  /** Resumes the reindex operations that were running when the server stopped. */
  resume(): void {
    for (const operation of this.operations.all()) {
      if (isEnded(operation.status)) continue;
      const paths = operation.resources.filter((p) => this.tags.get(p)?.status === 'Adding');
      this.startReindex(operation, paths);
    }
  }

  /** The fields QIDO may match: Ready and Enabled tags, by path and by keyword. */
  queryFields(): Map<string, FieldSpec> {
    const fields = new Map<string, FieldSpec>();
    for (const tag of this.tags.values()) {
      if (tag.status !== 'Ready' || tag.queryStatus !== 'Enabled') continue;
      const spec = fieldOf(tag);
      fields.set(tag.path, spec);
      if (spec.keyword !== tag.path) fields.set(spec.keyword, spec);
    }
    return fields;
  }

  /** New stores index the tags being added and the ready ones at once. */
  private publishFields(): void {
    const fields = [...this.tags.values()]
      .filter((tag) => tag.status !== 'Deleting')
      .map((tag) => fieldOf(tag));
    this.storage.extendedFields = fields;
    for (const storage of this.openStorages()) storage.extendedFields = fields;
  }

  get(pathTag: string): ExtendedTag {
    const tag = this.tags.get(pathTag);
    if (!tag) throw new HttpError(404, `the extended query tag ${pathTag} does not exist`);
    return tag;
  }

  list(offset: number, limit: number): ExtendedTag[] {
    return [...this.tags.values()].slice(offset, offset + limit);
  }

  /** POST: validates, adds the tags as Adding and starts their reindex. */
  async add(body: unknown): Promise<Operation> {
    const added = validateAddRequest(body, this.tags, this.maxTags);
    const operation = this.operations.create(
      'reindex',
      added.map((tag) => tag.path),
    );
    for (const tag of added) {
      tag.operationId = operation.id;
      this.tags.set(tag.path, tag);
    }
    this.publishFields();
    await this.save();
    this.startReindex(
      operation,
      added.map((tag) => tag.path),
    );
    return operation;
  }

  /** DELETE: cancels its reindex part, removes its values from the index, forgets it. */
  async delete(pathTag: string): Promise<void> {
    const tag = this.get(pathTag);
    tag.status = 'Deleting';
    this.publishFields();
    for (const run of this.running.values()) run.paths.delete(pathTag);
    for (const storage of this.openStorages()) {
      const catalog = storage.catalog;
      for (const study of catalog.studies.values()) {
        delete study.attrs[pathTag];
        for (const series of study.series.values()) {
          delete series.attrs[pathTag];
          for (const instance of series.instances.values()) delete instance.attrs[pathTag];
        }
      }
      catalog.version++;
      storage.scheduleSave();
    }
    this.tags.delete(pathTag);
    await this.save();
  }

  /** PATCH: QueryStatus Enabled or Disabled. */
  async setQueryStatus(pathTag: string, body: unknown): Promise<ExtendedTag> {
    const tag = this.get(pathTag);
    const record = body && typeof body === 'object' && !Array.isArray(body) ? body : undefined;
    const key = record && Object.keys(record).find((k) => k.toLowerCase() === 'querystatus');
    const value = key ? (record as Record<string, unknown>)[key] : undefined;
    const status =
      typeof value === 'string'
        ? ({ enabled: 'Enabled', disabled: 'Disabled' } as Record<string, QueryStatus>)[
            value.toLowerCase()
          ]
        : undefined;
    if (!status)
      throw new HttpError(400, 'the body must be {"QueryStatus": "Enabled" | "Disabled"}');
    tag.queryStatus = status;
    await this.save();
    return tag;
  }

  /** Stops the running reindexes (their state stays persisted for the next start). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running.values()].map((run) => run.done));
    await this.saving;
  }

  private startReindex(operation: Operation, paths: string[]): void {
    const run: RunningReindex = { operation, paths: new Set(paths) };
    this.running.set(operation.id, run);
    run.done = this.reindex(run)
      .catch((error: unknown) => {
        this.log(`reindex ${operation.id}: ${(error as Error).message}`);
        this.operations.update(operation, { status: 'failed' });
      })
      .finally(() => {
        this.running.delete(operation.id);
        if (!this.closed) void this.save();
      });
  }

  private async reindex(run: RunningReindex): Promise<void> {
    const { operation } = run;
    const checkpoint = this.beginRun(run);
    const storages = this.partitions ? await this.partitions.openAll() : [this.storage];
    const items = storages
      .flatMap((storage) => {
        const folder = this.storage.relativePath(storage.dir);
        return [...storage.catalog.instancesByUid.values()].map((node): ReindexItem => ({
          storage,
          node,
          key: `${folder}\u0000${node.uid}`,
        }));
      })
      .filter((item) => item.key > checkpoint.watermark)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const progress: RunProgress = {
      startPercent: operation.percentComplete,
      total: items.length,
      done: 0,
      sinceCheckpoint: 0,
      lastCheckpointAt: Date.now(),
      lastCheckpointCostMs: 0,
      touched: new Set(),
    };
    for (let start = 0; start < items.length; start += REINDEX_BATCH) {
      if (run.paths.size === 0 || this.closed) break;
      const batch = items.slice(start, start + REINDEX_BATCH);
      await this.reindexBatch(batch, run, progress);
      if (this.closed) return;
      if (this.checkpointDue(progress)) await this.checkpoint(run, progress, batch.at(-1)!.key);
    }
    if (this.closed) return;
    await this.finish(run, progress);
  }

  /**
   * The run's starting point: a first run clears its tags' errors; a resumed one goes on from
   * its checkpoint, with the error counts as they were there and the errors recorded past the
   * watermark dropped (their instances are indexed again, each counted once).
   */
  private beginRun(run: RunningReindex): ReindexCheckpoint {
    const { operation } = run;
    const checkpoint = operation.checkpoint ?? { watermark: '', errorCounts: {}, percent: 0 };
    for (const path of run.paths) {
      const tag = this.tags.get(path);
      if (!tag) continue;
      tag.errorCount = checkpoint.errorCounts[path] ?? 0;
      tag.errors = tag.errors.filter(
        (error) => error.orderKey !== undefined && error.orderKey <= checkpoint.watermark,
      );
    }
    this.operations.update(operation, { status: 'running', checkpoint });
    return checkpoint;
  }

  /** Reads one batch with {@link REINDEX_CONCURRENCY} instances at a time. */
  private async reindexBatch(
    batch: ReindexItem[],
    run: RunningReindex,
    progress: RunProgress,
  ): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batch.length && run.paths.size > 0 && !this.closed) {
        const item = batch[next++]!;
        if (await this.reindexInstance(item, run)) progress.touched.add(item.storage);
        progress.done++;
        progress.sinceCheckpoint++;
      }
    };
    await Promise.all(Array.from({ length: REINDEX_CONCURRENCY }, worker));
  }

  private checkpointDue(progress: RunProgress): boolean {
    return (
      progress.sinceCheckpoint >= CHECKPOINT_MIN_INSTANCES &&
      Date.now() - progress.lastCheckpointAt >=
        progress.lastCheckpointCostMs * CHECKPOINT_COST_FACTOR
    );
  }

  /** The percent of a run so far: from the persisted one, below 100 until it ends. */
  private percentOf(progress: RunProgress): number {
    const { startPercent, total, done } = progress;
    if (total === 0) return startPercent;
    return Math.min(99, startPercent + Math.floor(((100 - startPercent) * done) / total));
  }

  /**
   * Makes the run's progress durable: the index first (the values up to the watermark), then
   * the checkpoint. The percent answered moves only once both are on disk, so a crash never
   * shows a smaller one after the restart.
   */
  private async checkpoint(
    run: RunningReindex,
    progress: RunProgress,
    watermark: string,
  ): Promise<void> {
    const started = Date.now();
    try {
      for (const storage of progress.touched) {
        storage.catalog.version++;
        await storage.saveNow();
      }
    } catch (error) {
      this.log(`reindex ${run.operation.id}: the index was not saved: ${(error as Error).message}`);
      return;
    }
    progress.touched.clear();
    const errorCounts: Record<string, number> = {};
    for (const path of run.paths) errorCounts[path] = this.tags.get(path)?.errorCount ?? 0;
    const percent = Math.max(run.operation.percentComplete, this.percentOf(progress));
    run.operation.checkpoint = { watermark, errorCounts, percent };
    if (await this.save()) this.operations.update(run.operation, { percentComplete: percent });
    progress.sinceCheckpoint = 0;
    progress.lastCheckpointAt = Date.now();
    progress.lastCheckpointCostMs = progress.lastCheckpointAt - started;
  }

  /**
   * Ends the run: the index on disk first, then the state with the tags Ready and the
   * operation succeeded, and only then are both answered (a crash in between resumes the
   * run from its checkpoint, which was never answered as ended).
   */
  private async finish(run: RunningReindex, progress: RunProgress): Promise<void> {
    const { operation } = run;
    if (run.paths.size === 0) {
      this.operations.update(operation, { status: 'canceled', checkpoint: undefined });
      return;
    }
    for (const storage of this.openStorages()) {
      storage.catalog.version++;
      if (progress.touched.has(storage)) await storage.saveNow();
      else storage.scheduleSave();
    }
    const readyTags = new Map<string, ExtendedTag>();
    for (const path of run.paths) {
      const tag = this.tags.get(path);
      if (!tag) continue;
      // A tag with errors is not queried until enabled again (Azure's AddExtendedQueryTagError
      // sets its QueryStatus to 0).
      const queryStatus: QueryStatus = tag.errorCount > 0 ? 'Disabled' : tag.queryStatus;
      readyTags.set(path, { ...tag, status: 'Ready', queryStatus });
    }
    const ended: Operation = {
      ...operation,
      status: 'succeeded',
      percentComplete: 100,
      lastUpdatedTime: new Date().toISOString(),
    };
    delete ended.checkpoint;
    await this.save({ tags: readyTags, operation: ended });
    for (const [path, ready] of readyTags) {
      const tag = this.tags.get(path);
      if (tag) Object.assign(tag, { status: ready.status, queryStatus: ready.queryStatus });
    }
    this.publishFields();
    this.operations.update(operation, {
      status: 'succeeded',
      percentComplete: 100,
      checkpoint: undefined,
    });
  }

  /** Indexes one instance for the run's tags; true when a value was written to the index. */
  private async reindexInstance(item: ReindexItem, run: RunningReindex): Promise<boolean> {
    const { storage, node } = item;
    const catalog = storage.catalog;
    if (catalog.instancesByUid.get(node.uid) !== node) return false;
    let header;
    try {
      header = await readInstanceHeader(storedFile(storage.dir, node.file));
    } catch (error) {
      // Deleted or replaced meanwhile: nothing to index.
      if (catalog.instancesByUid.get(node.uid) !== node) return false;
      for (const path of run.paths)
        this.recordError(path, item, `the file cannot be read: ${(error as Error).message}`);
      return false;
    }
    let written = false;
    for (const path of run.paths) {
      const tag = this.tags.get(path);
      if (!tag || tag.status !== 'Adding') continue;
      const { value, error } = readTagValue(header.dataSet, tag);
      if (error) this.recordError(path, item, error);
      if (value === undefined) continue;
      const level = catalogLevel(tag.level);
      const owner =
        level === 'instance' ? node : level === 'series' ? node.series : node.series.study;
      owner.attrs[path] = value;
      written = true;
    }
    return written;
  }

  private recordError(path: string, item: ReindexItem, message: string): void {
    const tag = this.tags.get(path);
    if (!tag) return;
    tag.errorCount++;
    if (tag.errors.length >= this.maxErrorsPerTag) return;
    const { node } = item;
    tag.errors.push({
      studyUid: node.series.study.uid,
      seriesUid: node.series.uid,
      sopUid: node.uid,
      createdTime: new Date().toISOString(),
      message,
      orderKey: item.key,
    });
  }

  /**
   * Writes the state file whole: temporary file, fsync, rename (never half a file). True once
   * this state is on disk.
   */
  private save(ahead?: StateAhead): Promise<boolean> {
    const written = this.saving.then(async () => {
      const text = JSON.stringify({
        format: STATE_FORMAT,
        version: STATE_VERSION,
        tags: [...this.tags.values()].map((tag) => ahead?.tags.get(tag.path) ?? tag),
        operations: this.operations
          .all()
          .map((op) => (op.id === ahead?.operation.id ? ahead.operation : op)),
      });
      await replaceFileDurably(this.stateFile, text);
      return true;
    });
    const outcome = written.catch((error: unknown) => {
      this.log(`extended query tags: saving failed: ${(error as Error).message}`);
      return false;
    });
    this.saving = outcome.then(() => undefined);
    return outcome;
  }
}
