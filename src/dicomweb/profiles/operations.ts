/**
 * Google Cloud Healthcare's long-running operations. Its DICOMweb DELETE of a study or a
 * series answers at once with an Operation (`{"name": "projects/…/operations/{id}"}`) and
 * deletes in the background; only when `operations.get` says `done` is the data gone
 * (https://cloud.google.com/healthcare-api/docs/reference/rest/v1/projects.locations.datasets.operations/get).
 * A caller that refreshes its view right after the DELETE would still see what it deleted,
 * so the client waits for the operation.
 */

/** The parts of a google.longrunning.Operation this client reads. */
export interface LongRunningOperation {
  /** `projects/{p}/locations/{l}/datasets/{d}/operations/{id}`. */
  name: string;
  done: boolean;
  /** google.rpc.Status of a failed operation. */
  error?: { code?: number; message?: string };
}

/** Polling: the first wait, the longest wait, and when to give up. */
export interface OperationPolling {
  firstDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
}

export const DEFAULT_OPERATION_POLLING: OperationPolling = {
  firstDelayMs: 250,
  maxDelayMs: 5_000,
  timeoutMs: 10 * 60_000,
};

/** Operation names the client will poll: nothing that could leave the API's path. */
const OPERATION_NAME =
  /^projects\/[^/?#]+\/locations\/[^/?#]+\/datasets\/[^/?#]+\/operations\/[^/?#]+$/;

/**
 * Reads an Operation from a response body, or undefined when the body is not one (an empty
 * 204 from Azure, the local server or a Microsoft DICOM server; anything else).
 */
export function parseOperation(bytes: Uint8Array): LongRunningOperation | undefined {
  if (bytes.byteLength === 0 || bytes.byteLength > 1024 * 1024) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
    );
  } catch {
    return undefined;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  if (
    typeof record.name !== 'string' ||
    !OPERATION_NAME.test(record.name) ||
    record.name.split('/').includes('..')
  )
    return undefined;
  const error =
    record.error && typeof record.error === 'object'
      ? (record.error as { code?: unknown; message?: unknown })
      : undefined;
  return {
    name: record.name,
    done: record.done === true,
    ...(error
      ? {
          error: {
            ...(typeof error.code === 'number' ? { code: error.code } : {}),
            ...(typeof error.message === 'string' ? { message: error.message } : {}),
          },
        }
      : {}),
  };
}

/**
 * The API root that operation names hang from: `https://healthcare.googleapis.com/v1` for
 * a DICOMweb URL `https://healthcare.googleapis.com/v1/projects/…/dicomWeb`. Undefined when
 * the URL has no `/{version}/projects/` path.
 */
export function operationsRoot(baseUrl: string): string | undefined {
  const url = new URL(baseUrl);
  const match = /^\/(v[0-9]+(?:(?:alpha|beta)[0-9]*)?)\/projects\//.exec(url.pathname);
  return match ? `${url.origin}/${match[1]}` : undefined;
}
