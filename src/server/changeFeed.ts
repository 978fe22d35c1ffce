/**
 * The change feed of the local server, as the Azure DICOM service keeps it: an ordered,
 * immutable log of every instance created, updated (upsert) or deleted through the API, read
 * with `GET /changefeed` and `GET /changefeed/latest` (Microsoft Learn, "Change feed overview";
 * microsoft/dicom-server `ChangeFeedController.cs`).
 *
 * Durability (issue 14: "entries written in the same transaction as the store or delete they
 * record"). The feed is `.dicomweb/changefeed.log`, an append-only file of JSON lines:
 *   - an *intent* line per instance (`t: "i"`: sequence, time, action, UIDs, file) is written
 *     and fsynced BEFORE the rename that stores an instance or the unlink that deletes it;
 *   - a *commit* (`t: "c"`) or *abort* (`t: "a"`) line follows once the files show the outcome;
 *   - at start, an intent with neither is settled against the files (the rename or unlink
 *     either happened or not: a create or update is committed when its file is there as the
 *     new version, told by the identity (device and inode) of the written temporary file the
 *     intent recorded, which a rename keeps; a delete when its file is gone), and the
 *     settlement is appended. An update's path exists before and after its rename, so its
 *     presence alone would settle an interrupted update as done.
 * So after `kill -9` at any point, the feed and the files agree without ever reading the whole
 * folder: only unsettled intents are checked. The commit lines need no fsync: a lost one is
 * re-derived from the files the same way. The log is not derived from index.json (which is
 * rebuildable and may be deleted), so it survives restarts and index rebuilds.
 *
 * Readers see the committed entries below the first unsettled one (a committed prefix): a
 * client paging by sequence never skips an entry that commits after a later one. An aborted
 * intent leaves a gap in the sequence, as a rolled-back SQL Server sequence does in Azure.
 *
 * `State` is derived as Azure derives it from its watermarks: an entry is `current` while its
 * instance is the version it recorded, `replaced` once an update (upsert) recorded a newer
 * version, `deleted` once the instance was deleted (also for the delete entry itself).
 *
 * Plain Node: no `vscode` import.
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpError } from './httpUtil';

/** The file, inside the server's state folder (`.dicomweb`). */
export const CHANGE_FEED_FILE = 'changefeed.log';
/**
 * Most entries the log holds (about 250 bytes each on disk and in memory: 500,000 ≈ 125 MB).
 * At the limit a STOW, upsert or DELETE is refused with 507 and changes nothing: a change the
 * feed cannot record must not happen (the feed is a guarantee, not a best effort). Move the
 * log away (the feed then starts again at sequence 1) or raise the limit.
 */
export const MAX_CHANGE_FEED_ENTRIES = 500_000;

export type ChangeAction = 'create' | 'update' | 'delete';
export type ChangeState = 'current' | 'replaced' | 'deleted';

/** One change to record: what happens to which instance, and the file it happens to. */
export interface Change {
  action: ChangeAction;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  /** The instance's file, relative to the served folder (`/`-separated). */
  file: string;
  /**
   * The data partition (its name) when the service has partitions on: Azure keeps one change
   * feed for the whole service and names each entry's partition (ChangeFeedEntry.PartitionName,
   * microsoft/dicom-server); `file` is then relative to the served folder, above the
   * partition's own folder.
   */
  partition?: string;
  /**
   * Create and update: the identity ({@link fileIdentity}) of the file that will become
   * `file` (the written temporary file, renamed into place). Without it (a log written before
   * it was recorded), a create or update is settled by the file's presence.
   */
  identity?: string;
}

/** An entry of the feed. */
export interface FeedEntry extends Change {
  sequence: number;
  /** Milliseconds since the epoch; never less than the previous entry's. */
  time: number;
  status: 'pending' | 'committed' | 'aborted';
  /**
   * Shared by the entries of one lineage of the instance (create, updates): the sequence of its
   * current version, null once deleted (Azure's CurrentWatermark). One write updates them all.
   */
  version: { current: number | null };
}

/** 507 when the log is full (RFC 4918 §11.5: the server cannot store what the request needs). */
export class ChangeFeedFullError extends HttpError {
  constructor(max: number) {
    super(
      507,
      `the change feed is full (${max} entries): nothing was changed; move .dicomweb/${CHANGE_FEED_FILE} away or raise the limit`,
    );
  }
}

export interface ChangeFeedOptions {
  /** The server's state folder (`<served>/.dicomweb`). */
  stateDir: string;
  /** Whether a file (relative to the served folder) exists now. */
  fileExists: (file: string) => Promise<boolean>;
  /** The {@link fileIdentity} of a file relative to the served folder; undefined if absent. */
  fileIdentityOf: (file: string) => Promise<string | undefined>;
  log: (line: string) => void;
  maxEntries?: number;
}

interface IntentLine {
  t: 'i';
  q: number;
  ts: number;
  a: ChangeAction;
  s: string;
  x: string;
  i: string;
  f: string;
  /** Change.identity, when recorded. */
  n?: string;
  /** Change.partition, when partitions are on. */
  p?: string;
}
type LogLine = IntentLine | { t: 'c' | 'a'; q: number };

/**
 * A file's identity across a rename: its device and inode (bigint: a Windows file index does
 * not fit a double). Undefined when the file is absent.
 */
export async function fileIdentity(path: string): Promise<string | undefined> {
  try {
    const stats = await stat(path, { bigint: true });
    return `${stats.dev}:${stats.ino}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The log: appends (serialized), replay at open, and the committed prefix readers see. */
export class ChangeFeed {
  private readonly all: FeedEntry[] = [];
  private readonly visible: FeedEntry[] = [];
  /** Index into `all` of the first entry not yet settled. */
  private horizon = 0;
  /** Per instance alive, the version cell its entries share. */
  private readonly lineage = new Map<string, { current: number | null }>();
  private lastTime = 0;
  private appending: Promise<void> = Promise.resolve();
  readonly maxEntries: number;

  private constructor(
    private readonly handle: FileHandle,
    private readonly options: ChangeFeedOptions,
  ) {
    this.maxEntries = options.maxEntries ?? MAX_CHANGE_FEED_ENTRIES;
  }

  /** Opens (or creates) the log, replays it and settles the intents a crash left open. */
  static async open(options: ChangeFeedOptions): Promise<ChangeFeed> {
    const path = join(options.stateDir, CHANGE_FEED_FILE);
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    // 'a+' never truncates; a torn last line (a crash mid-append) is cut off below.
    const handle = await open(path, 'a+');
    const feed = new ChangeFeed(handle, options);
    try {
      const goodBytes = feed.replay(text, options.log);
      if (goodBytes < Buffer.byteLength(text)) {
        await handle.truncate(goodBytes);
        await handle.sync();
      }
      await feed.settleOpenIntents();
    } catch (error) {
      await handle.close();
      throw error;
    }
    return feed;
  }

  /** Reads the lines; returns the length in bytes of the whole lines read. */
  private replay(text: string, log: (line: string) => void): number {
    let goodBytes = 0;
    let at = 0;
    while (at < text.length) {
      const end = text.indexOf('\n', at);
      // No newline: the last append was torn by a crash; it was never fsynced whole, so the
      // rename or unlink it announced never started.
      if (end < 0) break;
      const line = text.slice(at, end);
      at = end + 1;
      goodBytes += Buffer.byteLength(line) + 1;
      const settlement = SETTLEMENT.exec(line);
      if (settlement) {
        this.applyLine({ t: settlement[1] as 'c' | 'a', q: Number(settlement[2]) });
        continue;
      }
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        log(`change feed: an unreadable line was skipped (${line.slice(0, 60)})`);
        continue;
      }
      this.applyLine(parsed);
    }
    this.advance();
    return goodBytes;
  }

  private applyLine(line: LogLine): void {
    if (line.t === 'i') {
      if (line.q !== this.all.length + 1) return;
      this.lastTime = Math.max(this.lastTime, line.ts);
      this.all.push({
        sequence: line.q,
        time: line.ts,
        action: line.a,
        studyUid: line.s,
        seriesUid: line.x,
        sopUid: line.i,
        file: line.f,
        ...(line.n ? { identity: line.n } : {}),
        ...(line.p ? { partition: line.p } : {}),
        status: 'pending',
        version: NO_VERSION,
      });
      return;
    }
    const entry = this.all[line.q - 1];
    if (entry && entry.status === 'pending')
      entry.status = line.t === 'c' ? 'committed' : 'aborted';
  }

  private async settleOpenIntents(): Promise<void> {
    const open = this.all.filter((entry) => entry.status === 'pending');
    if (open.length === 0) return;
    await this.settleByFiles(open, true);
    this.options.log(`change feed: ${open.length} change(s) interrupted by a stop were settled`);
  }

  /**
   * Records `changes` around `apply` (the rename or unlink that makes them): the intents are
   * durable before `apply` starts, and each change is settled by what the files show after it,
   * whether `apply` succeeded, failed half-way or threw.
   */
  async record<T>(changes: Change[], apply: () => Promise<T>): Promise<T> {
    if (changes.length === 0) return apply();
    const entries = await this.begin(changes);
    try {
      return await apply();
    } finally {
      await this.settleByFiles(entries, false);
    }
  }

  private async begin(changes: Change[]): Promise<FeedEntry[]> {
    if (this.all.length + changes.length > this.maxEntries)
      throw new ChangeFeedFullError(this.maxEntries);
    const time = Math.max(Date.now(), this.lastTime);
    this.lastTime = time;
    const entries = changes.map((change): FeedEntry => ({
      ...change,
      sequence: this.all.length + 1,
      time,
      status: 'pending',
      version: NO_VERSION,
    }));
    for (const [n, entry] of entries.entries()) entry.sequence = this.all.length + 1 + n;
    this.all.push(...entries);
    const lines = entries.map((e) =>
      JSON.stringify({
        t: 'i',
        q: e.sequence,
        ts: e.time,
        a: e.action,
        s: e.studyUid,
        x: e.seriesUid,
        i: e.sopUid,
        f: e.file,
        ...(e.identity ? { n: e.identity } : {}),
        ...(e.partition ? { p: e.partition } : {}),
      } satisfies IntentLine),
    );
    try {
      await this.append(lines, true);
    } catch (error) {
      // Not durable, so the change must not happen; the intent lines on disk (if any) are
      // settled by the files at the next start (their files never moved).
      for (const entry of entries) entry.status = 'aborted';
      this.advance();
      throw error;
    }
    return entries;
  }

  /**
   * A delete happened when its file is gone; a create or update when its file is there and,
   * when the intent recorded it, is the new version (same identity as the renamed file).
   */
  private async settleByFiles(entries: FeedEntry[], sync: boolean): Promise<void> {
    const lines: string[] = [];
    for (const entry of entries) {
      const happened =
        entry.action === 'delete'
          ? !(await this.options.fileExists(entry.file))
          : entry.identity
            ? (await this.options.fileIdentityOf(entry.file)) === entry.identity
            : await this.options.fileExists(entry.file);
      entry.status = happened ? 'committed' : 'aborted';
      lines.push(JSON.stringify({ t: happened ? 'c' : 'a', q: entry.sequence }));
    }
    this.advance();
    await this.append(lines, sync).catch((error: Error) =>
      // A lost settlement line is settled again from the files at the next start.
      this.options.log(`change feed: ${error.message}`),
    );
  }

  /** Appends whole lines, one append at a time (never interleaved); fsync when asked. */
  private append(lines: string[], sync: boolean): Promise<void> {
    const run = this.appending.then(async () => {
      await this.handle.appendFile(lines.map((line) => `${line}\n`).join(''));
      if (sync) await this.handle.sync();
    });
    this.appending = run.catch(() => undefined);
    return run;
  }

  /** Moves the committed prefix forward, applying each entry's effect on the states. */
  private advance(): void {
    while (this.horizon < this.all.length && this.all[this.horizon]!.status !== 'pending') {
      const entry = this.all[this.horizon++]!;
      if (entry.status !== 'committed') continue;
      this.applyVersion(entry);
      this.visible.push(entry);
    }
  }

  private applyVersion(entry: FeedEntry): void {
    // The same UIDs may live in two partitions; Microsoft.Default's entries may or may not
    // name it (recorded before or after partitions were turned on).
    const partition = entry.partition?.toLowerCase() ?? DEFAULT_PARTITION_KEY;
    const key = `${partition === DEFAULT_PARTITION_KEY ? '' : partition}/${entry.studyUid}/${entry.seriesUid}/${entry.sopUid}`;
    const alive = this.lineage.get(key);
    if (entry.action === 'delete') {
      if (alive) alive.current = null;
      entry.version = NO_VERSION;
      this.lineage.delete(key);
      return;
    }
    // An update (or a create over a live version) makes the older entries `replaced`.
    if (alive) {
      alive.current = entry.sequence;
      entry.version = alive;
    } else {
      entry.version = { current: entry.sequence };
      this.lineage.set(key, entry.version);
    }
  }

  /** Azure's `State` of an entry. */
  stateOf(entry: FeedEntry): ChangeState {
    const current = entry.version.current;
    if (current === null) return 'deleted';
    return current === entry.sequence ? 'current' : 'replaced';
  }

  /** The newest visible entry. */
  latest(): FeedEntry | undefined {
    return this.visible[this.visible.length - 1];
  }

  /** Number of entries the log holds (every sequence handed out, aborted ones included). */
  get size(): number {
    return this.all.length;
  }

  /** API v1: the entries whose sequence is in (offset, offset + limit] (Azure's v1 paging). */
  bySequence(offset: number, limit: number): FeedEntry[] {
    const from = lowerBound(this.visible, (e) => e.sequence > offset);
    const out: FeedEntry[] = [];
    for (let n = from; n < this.visible.length; n++) {
      const entry = this.visible[n]!;
      if (entry.sequence > offset + limit) break;
      out.push(entry);
    }
    return out;
  }

  /**
   * API v2: the entries with `startMs <= time < endMs`, in sequence order, skipping `offset`
   * of them and returning at most `limit`.
   */
  byTime(startMs: number, endMs: number, offset: number, limit: number): FeedEntry[] {
    const from = lowerBound(this.visible, (e) => e.time >= startMs) + offset;
    const out: FeedEntry[] = [];
    for (let n = from; n < this.visible.length && out.length < limit; n++) {
      const entry = this.visible[n]!;
      if (entry.time >= endMs) break;
      out.push(entry);
    }
    return out;
  }

  /** Waits for pending appends and closes the log. */
  async close(): Promise<void> {
    await this.appending;
    await this.handle.close();
  }
}

/** Microsoft.Default (partitions.ts DEFAULT_PARTITION), lower case: names are case-insensitive. */
const DEFAULT_PARTITION_KEY = 'microsoft.default';

/** The version cell of entries not (or no longer) alive: pending, aborted, deletes. */
const NO_VERSION: { readonly current: null } = Object.freeze({ current: null });

/** A settlement line, parsed without JSON.parse (half the lines of a replay). */
const SETTLEMENT = /^\{"t":"([ca])","q":(\d+)\}$/;

/** The first index whose entry satisfies `test` (false…false true…true), or the length. */
function lowerBound(entries: FeedEntry[], test: (entry: FeedEntry) => boolean): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (test(entries[mid]!)) high = mid;
    else low = mid + 1;
  }
  return low;
}
