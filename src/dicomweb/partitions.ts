/**
 * Data partitions of the Azure DICOM service (and of the local server that emulates it):
 * `GET {service}/partitions` lists them, and every STOW, WADO, QIDO and DELETE of one goes
 * to `{service}/partitions/{name}/…` (microsoft/dicom-server docs/concepts/data-partitions.md;
 * learn.microsoft.com "Enable data partitioning"). A client for a partition is a client whose
 * base URL ends in `/partitions/{name}`: every URL it builds, and every cURL it prints, then
 * carries the partition, and its credentials go where the service's go (same origin,
 * transport/origins.ts). No `vscode` import.
 */
import { DicomWebError, DicomWebHttpError } from './transport/errors';
import type { RequestOptions } from './session';
import type { DicomWebSession } from './session';

/** Where the data stored before partitions were turned on lives (the service's key 1). */
export const DEFAULT_PARTITION = 'Microsoft.Default';

/** One entry of `GET /partitions` (the service's PartitionEntry, camelCase). */
export interface PartitionEntry {
  partitionKey: number;
  partitionName: string;
  /** ISO 8601, when the server tells. */
  createdDate?: string;
}

/**
 * Why the service would refuse a partition name, or undefined: 1–64 characters of letters,
 * digits, `_`, `.` and `-` (the service's PartitionNameValidator, `^[A-Za-z0-9_.-]*$`, at
 * most 64). A name of dots only is refused too: URL parsing removes such a path segment
 * (RFC 3986 §5.2.4), so no request could reach it. (The local server applies the same rule,
 * src/server/partitions.ts; the two rooms may not import each other.)
 */
export function partitionNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'Enter a partition name.';
  if (name.length > 64)
    return `A partition name has at most 64 characters (this one ${name.length}).`;
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    return "A partition name has only letters, digits, '_', '.' and '-'.";
  if (/^\.+$/.test(name)) return 'A partition name of dots only cannot appear in a URL.';
  return undefined;
}

const PARTITION_SUFFIX = /\/partitions\/([^/]+)$/;

/** The service URL without a trailing `/partitions/{name}` (where `/partitions` is listed). */
export function serviceRootOf(baseUrl: string): string {
  return baseUrl.replace(PARTITION_SUFFIX, '');
}

/** The partition a base URL names, decoded; undefined when it names none. */
export function partitionOf(baseUrl: string): string | undefined {
  const match = PARTITION_SUFFIX.exec(baseUrl);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return match[1];
  }
}

/** The base URL of one partition of the service `baseUrl` belongs to. */
export function partitionBaseUrl(baseUrl: string, name: string): string {
  const problem = partitionNameProblem(name);
  if (problem) throw new DicomWebError('INVALID_REQUEST', `"${name.slice(0, 80)}": ${problem}`);
  return `${serviceRootOf(baseUrl)}/partitions/${encodeURIComponent(name)}`;
}

/** Most entries read from one `GET /partitions` (the local server keeps at most 128). */
export const MAX_LISTED_PARTITIONS = 10_000;

/**
 * `GET {service}/partitions`: the partitions, by key. 204 (the service: "no partitions
 * exist") is an empty list. A service without partitions answers 400 (feature disabled);
 * that error is thrown, see {@link probePartitions} for the question "are they on?".
 */
export async function listPartitions(
  session: DicomWebSession,
  options: RequestOptions = {},
): Promise<PartitionEntry[]> {
  const url = `${serviceRootOf(session.baseUrl)}/partitions`;
  const { response, bytes } = await session.transport.sendForBytes({
    method: 'GET',
    url,
    headers: { accept: 'application/json' },
    signal: options.signal,
    ...session.inMemory('json'),
  });
  if (response.status === 204 || bytes.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new DicomWebError('MALFORMED_RESPONSE', `GET ${url}: the answer is not JSON`);
  }
  if (!Array.isArray(parsed))
    throw new DicomWebError(
      'MALFORMED_RESPONSE',
      `GET ${url}: expected a JSON array of partitions`,
    );
  const entries = parsed.slice(0, MAX_LISTED_PARTITIONS).flatMap(toEntry);
  return entries.sort((a, b) => a.partitionKey - b.partitionKey);
}

/**
 * The partitions when the service has them on; undefined when it answers that it has none
 * (400 "Data partitions feature is disabled", or 404/405 from a server that has no such
 * resource). Other failures (network, 401, 5xx) are thrown: they say nothing about partitions.
 */
export async function probePartitions(
  session: DicomWebSession,
  options: RequestOptions = {},
): Promise<PartitionEntry[] | undefined> {
  try {
    return await listPartitions(session, options);
  } catch (error) {
    if (error instanceof DicomWebHttpError && [400, 404, 405].includes(error.status))
      return undefined;
    throw error;
  }
}

/** An entry as the service writes it (PascalCase tolerated: older servers); others dropped. */
function toEntry(value: unknown): PartitionEntry[] {
  if (!value || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  const key = record.partitionKey ?? record.PartitionKey;
  const name = record.partitionName ?? record.PartitionName;
  const created = record.createdDate ?? record.CreatedDate;
  if (typeof key !== 'number' || typeof name !== 'string' || partitionNameProblem(name)) return [];
  return [
    {
      partitionKey: key,
      partitionName: name,
      ...(typeof created === 'string' ? { createdDate: created } : {}),
    },
  ];
}
