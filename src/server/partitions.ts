/**
 * Data partitions of the Azure DICOM service, emulated: several stores in one service, each
 * with its own studies, so the same UIDs can live twice (microsoft/dicom-server
 * docs/concepts/data-partitions.md; learn.microsoft.com "Enable data partitioning").
 *
 * What the service does, and so this server:
 * - Off by default; turned on when the service is created (LocalServerOptions.partitions).
 * - On: STOW, WADO, QIDO and DELETE live under `/partitions/{name}/…`; without that segment
 *   they answer 400 "PartitionName value is missing in the route segment" (the service's
 *   PopulateDataPartitionFilterAttribute: DataPartitionsMissingPartitionException). Other
 *   resources (change feed, extended query tags, operations) stay at the base URI.
 * - Off: any `/partitions…` request answers 400 "Data partitions feature is disabled"
 *   (DataPartitionsFeatureDisabledException, a BadRequestException).
 * - `GET /partitions` lists them as JSON `[{partitionKey, partitionName, createdDate}]`
 *   (the service's PartitionEntry, camelCase as its other JSON answers).
 * - A partition is created by the first STOW to it (the filter's
 *   `_partitionCreationSupportedRouteNames`: the two store routes); any other request to a
 *   partition that does not exist answers 400 "Specified PartitionName {name} does not exist".
 * - `Microsoft.Default` (key 1) holds what was stored before partitions were turned on.
 * - Names: 1–64 characters of `A–Z a–z 0–9 _ . -` (PartitionNameValidator,
 *   `^[A-Za-z0-9_.-]*$`, length ≤ 64). One name is one partition whatever its case: the
 *   service's unique index IX_Partition_PartitionName is on a VARCHAR(64) column under Azure
 *   SQL's default case-insensitive collation, so `Foo` finds `foo`.
 *
 * On disk: `Microsoft.Default` is the served folder itself, so everything already served
 * stays visible, and turning partitions on or off never moves a file. Every other partition
 * is a folder `<dir>/.dicomweb-partitions/<key>-<name>/` with its own Storage (its own index,
 * tmp folder and watcher) and `<dir>/.dicomweb-partitions/partitions.json` lists them. The
 * folder is hidden, so the served folder's own scan never reads another partition's files.
 * The change feed is the service's, not a partition's (as Azure's, at the base URI): the
 * served folder's log, each entry naming its partition (Storage.feedShare).
 * The folder's name starts with the key the server chose: a name that differs only by case,
 * ends with a dot (Windows drops it) or is a device name (`CON`) still gets a folder of its
 * own, and a name never becomes a path by itself (each folder is made through the jail,
 * src/server/jail.ts, level by level, never through a link).
 *
 * Plain Node: no `vscode` import.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChangeFeed } from './changeFeed';
import { replaceFileDurably } from './durableFile';
import { HttpError } from './httpUtil';
import { folderInside } from './jail';
import { Storage, type Log } from './storage';

/** The partition that holds the data stored before partitions were on (the service's key 1). */
export const DEFAULT_PARTITION = 'Microsoft.Default';
/** Hidden folder of the served folder that holds the other partitions and their list. */
export const PARTITIONS_DIR = '.dicomweb-partitions';
const REGISTRY_FILE = 'partitions.json';

/** The service's messages (microsoft/dicom-server DicomCoreResource), for the same 400s. */
export const PartitionMessages = {
  disabled: 'Data partitions feature is disabled.',
  missing: 'PartitionName value is missing in the route segment.',
  notFound: (name: string) => `Specified PartitionName '${name}' does not exist.`,
} as const;

/** One entry of `GET /partitions`, as the service writes it. */
export interface PartitionEntry {
  partitionKey: number;
  partitionName: string;
  /** ISO 8601, UTC. */
  createdDate: string;
}

/**
 * Why a partition name is refused, or undefined when the service accepts it: 1–64 characters
 * of letters, digits, `_`, `.` and `-` (PartitionNameValidator). One more rule here: a name of
 * dots only (`.`, `..`) is refused, since every URL parser removes such a path segment
 * (RFC 3986 §5.2.4) and no client could ever reach that partition.
 */
export function partitionNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 64 || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    return `PartitionName '${name.slice(0, 80)}' is invalid: 1 to 64 letters, digits, '_', '.' or '-'`;
  }
  if (/^\.+$/.test(name)) {
    return `PartitionName '${name}' is invalid: a path segment of dots only is removed by URL normalisation (RFC 3986 §5.2.4)`;
  }
  return undefined;
}

interface PartitionRecord extends PartitionEntry {
  /** Folder below PARTITIONS_DIR; '' for Microsoft.Default (the served folder). */
  folder: string;
}

/** A partition with its store, once opened. */
export interface OpenPartition {
  entry: PartitionEntry;
  storage: Storage;
  /** SOP Instance UIDs being stored in this partition by requests in flight. */
  reserved: Set<string>;
}

export interface PartitionSetOptions {
  /** The served folder (Microsoft.Default). */
  dir: string;
  /** Its Storage, already open. */
  defaultStorage: Storage;
  /** Its in-flight set (RouterContext.reserved). */
  defaultReserved: Set<string>;
  log: Log;
  maxPartitions: number;
  /** Storage options of every other partition, as for the served folder. */
  watch: boolean;
  scanOnStart: boolean;
  indexSaveDelayMs?: number;
}

/** The partitions of one server: the list, kept on disk, and each one's Storage once used. */
export class PartitionSet {
  private readonly records = new Map<string, PartitionRecord>();
  private readonly opened = new Map<string, Promise<OpenPartition>>();
  /** The Storage of every partition opened so far, Microsoft.Default's included. */
  private readonly openStores = new Set<Storage>();
  /** Creation in progress, so two STOWs to a new name create it once. */
  private creating: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The service's change feed (the served folder's store opened it). */
  private feed: ChangeFeed | undefined;

  private constructor(private readonly options: PartitionSetOptions) {}

  /** Reads the list (or rebuilds it from the folders when it is missing or unreadable). */
  static async load(options: PartitionSetOptions): Promise<PartitionSet> {
    const set = new PartitionSet(options);
    await set.readRegistry();
    if (!set.records.has(DEFAULT_PARTITION.toLowerCase())) {
      set.put({
        partitionKey: 1,
        partitionName: DEFAULT_PARTITION,
        createdDate: new Date().toISOString(),
        folder: '',
      });
      await set.writeRegistry();
    }
    const defaultRecord = set.records.get(DEFAULT_PARTITION.toLowerCase())!;
    set.openStores.add(options.defaultStorage);
    // One change feed for the service (Azure's is at the base URI, each entry naming its
    // partition): the served folder's, which every partition's store records into.
    set.feed = options.defaultStorage.changeFeed;
    if (set.feed)
      options.defaultStorage.feedShare = {
        feed: set.feed,
        partition: DEFAULT_PARTITION,
        folder: '',
      };
    set.opened.set(
      defaultRecord.partitionName.toLowerCase(),
      Promise.resolve({
        entry: entryOf(defaultRecord),
        storage: options.defaultStorage,
        reserved: options.defaultReserved,
      }),
    );
    return set;
  }

  /** Every partition, by key (the `GET /partitions` answer). */
  list(): PartitionEntry[] {
    return [...this.records.values()]
      .sort((a, b) => a.partitionKey - b.partitionKey)
      .map((record) => entryOf(record));
  }

  /**
   * The partition a request names, opened. `create` (the store routes) makes a missing one;
   * otherwise a missing one is the service's 400.
   */
  async resolve(name: string, create: boolean): Promise<OpenPartition> {
    const problem = partitionNameProblem(name);
    if (problem) throw new HttpError(400, problem);
    if (this.closed) throw new HttpError(503, 'the server is stopping');
    let record = this.records.get(name.toLowerCase());
    if (!record) {
      if (!create) throw new HttpError(400, PartitionMessages.notFound(name));
      record = await this.create(name);
    }
    const key = record.partitionName.toLowerCase();
    let opening = this.opened.get(key);
    if (!opening) {
      opening = this.openStorage(record);
      this.opened.set(key, opening);
      // A failed open is tried again by the next request, not remembered.
      opening.catch(() => this.opened.delete(key));
    }
    return opening;
  }

  /** The Storage of every partition opened so far (extended query tags publish to each). */
  openedStorages(): Storage[] {
    return [...this.openStores];
  }

  /**
   * Every partition opened: extended query tags are the whole service's (Azure keeps one list
   * for all partitions), so a reindex walks each partition's instances.
   */
  async openAll(): Promise<Storage[]> {
    const records = [...this.records.values()];
    const open = await Promise.all(
      records.map((record) => this.resolve(record.partitionName, false)),
    );
    return open.map((partition) => partition.storage);
  }

  /** Stops every partition's watcher and persists its index (not Microsoft.Default's). */
  async close(): Promise<void> {
    this.closed = true;
    await this.creating.catch(() => undefined);
    const stores = await Promise.allSettled(this.opened.values());
    for (const result of stores) {
      if (result.status !== 'fulfilled') continue;
      if (result.value.storage === this.options.defaultStorage) continue;
      await result.value.storage.close();
    }
  }

  private async create(name: string): Promise<PartitionRecord> {
    const run = this.creating.then(async () => {
      // Another request may have made it while this one waited.
      const existing = this.records.get(name.toLowerCase());
      if (existing) return existing;
      if (this.records.size >= this.options.maxPartitions) {
        throw new HttpError(
          400,
          `the local server keeps at most ${this.options.maxPartitions} partitions; '${name}' was not created`,
        );
      }
      const partitionKey =
        Math.max(1, ...[...this.records.values()].map((r) => r.partitionKey)) + 1;
      const record: PartitionRecord = {
        partitionKey,
        partitionName: name,
        createdDate: new Date().toISOString(),
        folder: `${partitionKey}-${name}`,
      };
      await folderInside(this.options.dir, `${PARTITIONS_DIR}/${record.folder}`);
      this.put(record);
      await this.writeRegistry();
      this.options.log(`partition ${name} created (key ${partitionKey})`);
      return record;
    });
    this.creating = run.catch(() => undefined);
    return run;
  }

  private async openStorage(record: PartitionRecord): Promise<OpenPartition> {
    const { real } = await folderInside(this.options.dir, `${PARTITIONS_DIR}/${record.folder}`);
    const log = this.options.log;
    const storage = new Storage({
      dir: real,
      log: (line) => log(`[${record.partitionName}] ${line}`),
      saveDelayMs: this.options.indexSaveDelayMs,
      ownChangeFeed: false,
    });
    if (this.feed)
      storage.feedShare = {
        feed: this.feed,
        partition: record.partitionName,
        folder: `${PARTITIONS_DIR}/${record.folder}`,
      };
    // The service's extended query tags are indexed in every partition, from its first scan.
    storage.extendedFields = this.options.defaultStorage.extendedFields;
    await storage.open({ scan: this.options.scanOnStart });
    this.openStores.add(storage);
    if (this.options.watch) storage.watch();
    if (this.closed) {
      await storage.close();
      throw new HttpError(503, 'the server is stopping');
    }
    return { entry: entryOf(record), storage, reserved: new Set() };
  }

  private put(record: PartitionRecord): void {
    this.records.set(record.partitionName.toLowerCase(), record);
  }

  private get registryPath(): string {
    return join(this.options.dir, PARTITIONS_DIR, REGISTRY_FILE);
  }

  /** The list as written, else the folders `<key>-<name>` found (their dates unknown: now). */
  private async readRegistry(): Promise<void> {
    await folderInside(this.options.dir, PARTITIONS_DIR);
    try {
      const parsed = JSON.parse(await readFile(this.registryPath, 'utf8')) as unknown;
      for (const record of Array.isArray(parsed) ? parsed : []) {
        if (isRecord(record)) this.put(record);
      }
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.options.log(`partitions: ${(error as Error).message}; listing them from the folders`);
    }
    const entries = await readdir(join(this.options.dir, PARTITIONS_DIR), { withFileTypes: true });
    for (const entry of entries) {
      const match = /^([0-9]{1,9})-(.+)$/.exec(entry.name);
      if (!entry.isDirectory() || !match || partitionNameProblem(match[2]!)) continue;
      this.put({
        partitionKey: Number(match[1]),
        partitionName: match[2]!,
        createdDate: new Date().toISOString(),
        folder: entry.name,
      });
    }
    if (this.records.size) await this.writeRegistry();
  }

  /** Temporary file, fsync, rename: a crash leaves the old list or the new one. */
  private async writeRegistry(): Promise<void> {
    await replaceFileDurably(
      this.registryPath,
      `${JSON.stringify([...this.records.values()], null, 1)}\n`,
    );
  }
}

function entryOf(record: PartitionRecord): PartitionEntry {
  const { partitionKey, partitionName, createdDate } = record;
  return { partitionKey, partitionName, createdDate };
}

/** A list entry read back: only well-formed ones, whose folder is the one this server names. */
function isRecord(value: unknown): value is PartitionRecord {
  const r = value as Partial<PartitionRecord> | null;
  if (!r || typeof r !== 'object') return false;
  if (typeof r.partitionKey !== 'number' || !Number.isInteger(r.partitionKey)) return false;
  if (typeof r.partitionName !== 'string' || partitionNameProblem(r.partitionName)) return false;
  if (typeof r.createdDate !== 'string') return false;
  const expected =
    r.partitionName === DEFAULT_PARTITION ? '' : `${r.partitionKey}-${r.partitionName}`;
  return r.folder === expected;
}

/** What a request's scope needs of the router's context. */
export interface PartitionScope {
  storage: Storage;
  dir: string;
  reserved: Set<string>;
  /** Present when partitions are on. */
  partitions?: PartitionSet;
  /** The partition a request's path named (`/partitions/{name}/…`), once scoped. */
  partition?: string;
}

/** The request's scope: its context, the path segments below it, and its path from the base. */
export interface ScopedRequest<C extends PartitionScope> {
  context: C;
  segments: string[];
  /** `/partitions/{name}` (the stored spelling) or ''. */
  basePath: string;
}

/** Resources the service serves per partition: a request for them must name one when on. */
const PARTITIONED_ROOTS = new Set(['studies', 'series', 'instances']);

/**
 * Resolves a request's partition (module comment): the context whose `storage`, `dir` and
 * `reserved` are the partition's, so every route answers inside it unchanged. Answers
 * `GET /partitions` itself (then undefined).
 */
export async function scopeToPartition<C extends PartitionScope>(
  context: C,
  method: string,
  segments: string[],
  sendList: (entries: PartitionEntry[]) => void,
): Promise<ScopedRequest<C> | undefined> {
  const { partitions } = context;
  const [root, name, ...rest] = segments;
  if (!partitions) {
    if (root === 'partitions') throw new HttpError(400, PartitionMessages.disabled);
    return { context, segments, basePath: '' };
  }
  if (root !== 'partitions') {
    if (root !== undefined && PARTITIONED_ROOTS.has(root))
      throw new HttpError(400, PartitionMessages.missing);
    return { context, segments, basePath: '' };
  }
  if (name === undefined) {
    if (method !== 'GET')
      throw new HttpError(405, `${method} is not allowed here`, { allow: 'GET' });
    sendList(partitions.list());
    return undefined;
  }
  // The store routes create the partition (`POST /studies`, `POST /studies/{study}`, and the
  // same paths with PUT, the upsert of the v2 API).
  const create =
    (method === 'POST' || method === 'PUT') && rest[0] === 'studies' && rest.length <= 2;
  const partition = await partitions.resolve(name, create);
  return {
    context: {
      ...context,
      storage: partition.storage,
      dir: partition.storage.dir,
      reserved: partition.reserved,
      partition: partition.entry.partitionName,
    },
    segments: rest,
    basePath: `/partitions/${encodeURIComponent(partition.entry.partitionName)}`,
  };
}
