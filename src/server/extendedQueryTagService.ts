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
 * (their last persisted status and percent). An operation that was running is started again
 * from the beginning under the same id: the values it had written are overwritten anyway.
 *
 * Plain Node: no `vscode` import.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
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
import { HttpError } from './httpUtil';
import { storedFile } from './jail';
import { OperationRegistry, isEnded, type Operation } from './operations';
import type { FieldSpec } from './catalog';
import type { PartitionSet } from './partitions';
import type { Log, Storage } from './storage';

const STATE_FILE = 'extended-query-tags.json';
const STATE_FORMAT = 'dicomweb-explorer/extended-query-tags';
const STATE_VERSION = 1;
/** Instances read at once by a reindex: enough to overlap file reads, few enough to leave the
 * server's requests their share of the disk and the event loop. */
export const REINDEX_CONCURRENCY = 4;

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

  /** Starts again the reindex operations that were running when the server stopped. */
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
    this.operations.update(operation, { status: 'running', percentComplete: 0 });
    for (const path of run.paths) {
      const tag = this.tags.get(path);
      if (tag) {
        tag.errorCount = 0;
        tag.errors = [];
      }
    }
    const storages = this.partitions ? await this.partitions.openAll() : [this.storage];
    const instances = storages.flatMap((storage) =>
      [...storage.catalog.instancesByUid.values()].map((node) => ({ storage, node })),
    );
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < instances.length && run.paths.size > 0 && !this.closed) {
        const { storage, node } = instances[next++]!;
        await this.reindexInstance(storage, node, run);
        done++;
        const percent = Math.floor((done * 100) / instances.length);
        if (percent !== operation.percentComplete)
          this.operations.update(operation, { percentComplete: percent });
      }
    };
    await Promise.all(Array.from({ length: REINDEX_CONCURRENCY }, worker));
    if (this.closed) return;
    this.finish(run);
  }

  private finish(run: RunningReindex): void {
    const { operation } = run;
    if (run.paths.size === 0) {
      this.operations.update(operation, { status: 'canceled' });
      return;
    }
    for (const path of run.paths) {
      const tag = this.tags.get(path);
      if (!tag) continue;
      tag.status = 'Ready';
      if (tag.errorCount > 0) tag.queryStatus = 'Disabled';
    }
    for (const storage of this.openStorages()) {
      storage.catalog.version++;
      storage.scheduleSave();
    }
    this.publishFields();
    this.operations.update(operation, { status: 'succeeded', percentComplete: 100 });
  }

  private async reindexInstance(
    storage: Storage,
    node: InstanceNode,
    run: RunningReindex,
  ): Promise<void> {
    const catalog = storage.catalog;
    if (catalog.instancesByUid.get(node.uid) !== node) return;
    let header;
    try {
      header = await readInstanceHeader(storedFile(storage.dir, node.file));
    } catch (error) {
      // Deleted or replaced meanwhile: nothing to index.
      if (catalog.instancesByUid.get(node.uid) !== node) return;
      for (const path of run.paths)
        this.recordError(path, node, `the file cannot be read: ${(error as Error).message}`);
      return;
    }
    for (const path of run.paths) {
      const tag = this.tags.get(path);
      if (!tag || tag.status !== 'Adding') continue;
      const { value, error } = readTagValue(header.dataSet, tag);
      if (error) this.recordError(path, node, error);
      if (value === undefined) continue;
      const level = catalogLevel(tag.level);
      const owner =
        level === 'instance' ? node : level === 'series' ? node.series : node.series.study;
      owner.attrs[path] = value;
    }
  }

  private recordError(path: string, node: InstanceNode, message: string): void {
    const tag = this.tags.get(path);
    if (!tag) return;
    tag.errorCount++;
    if (tag.errors.length >= this.maxErrorsPerTag) return;
    tag.errors.push({
      studyUid: node.series.study.uid,
      seriesUid: node.series.uid,
      sopUid: node.uid,
      createdTime: new Date().toISOString(),
      message,
    });
  }

  /** Writes the state file whole: temporary file, fsync, rename (never half a file). */
  private save(): Promise<void> {
    this.saving = this.saving
      .then(async () => {
        const text = JSON.stringify({
          format: STATE_FORMAT,
          version: STATE_VERSION,
          tags: [...this.tags.values()],
          operations: this.operations.all(),
        });
        const temp = `${this.stateFile}.${process.pid}.tmp`;
        await rm(temp, { force: true });
        const handle = await open(temp, 'wx');
        try {
          await handle.writeFile(text);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, this.stateFile);
      })
      .catch((error: unknown) =>
        this.log(`extended query tags: saving failed: ${(error as Error).message}`),
      );
    return this.saving;
  }
}
