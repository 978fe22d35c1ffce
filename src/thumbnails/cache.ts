/**
 * A least-recently-used cache bounded twice: by entries and by bytes. One per connection
 * (connection.ts) holds the thumbnails already fetched, keyed by UIDs and size, so a
 * hover or a scroll back costs no request. No `vscode`: tested in plain Node.
 */

export interface CacheLimits {
  /** Entries kept at most; the least recently used goes first. */
  maxEntries: number;
  /** Bytes kept at most (the sum of {@link LruCache.sizeOf} over the entries). */
  maxBytes: number;
}

export class LruCache<V> {
  // A Map iterates in insertion order: re-inserting on use keeps the oldest first.
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly limits: CacheLimits,
    private readonly sizeOf: (value: V) => number,
  ) {
    if (!(limits.maxEntries >= 1) || !(limits.maxBytes >= 1))
      throw new RangeError('LruCache: maxEntries and maxBytes must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Keeps `value` under `key`, dropping the least recently used entries beyond the limits.
   * A value larger than the whole byte budget is not kept (it would empty the cache for
   * nothing); returns whether it was kept.
   */
  set(key: string, value: V): boolean {
    const bytes = this.sizeOf(value);
    this.delete(key);
    if (bytes > this.limits.maxBytes) return false;
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
    return true;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
