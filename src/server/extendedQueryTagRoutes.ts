/**
 * The routes of the Azure DICOM service's extended query tags and operations ("Extended
 * query tags overview": POST/GET `/extendedquerytags`, GET/DELETE/PATCH
 * `/extendedquerytags/{tagPath}`, GET `/extendedquerytags/{tagPath}/errors`,
 * GET `/operations/{operationId}`), answered as plain `application/json`.
 *
 * Plain Node: no `vscode` import.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtendedQueryTagService } from './extendedQueryTagService';
import {
  PAGE_DEFAULT_LIMIT,
  PAGE_MAX_LIMIT,
  errorJson,
  parseTagPath,
  tagJson,
} from './extendedQueryTags';
import { HttpError, parseQuery, sendJson } from './httpUtil';
import { isEnded, isOperationId, operationJson, operationReference } from './operations';

/** Largest JSON body of a POST or PATCH here: 128 tags take about 10 KiB. */
export const MAX_TAG_REQUEST_BYTES = 256 * 1024;

export interface TagRouteContext {
  service: ExtendedQueryTagService;
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** The server's own URL with the request's version prefix. */
  baseUrl: string;
  search: string;
  apiVersion: number;
}

function allow(context: TagRouteContext, allowed: string[]): void {
  if (!allowed.includes(context.method))
    throw new HttpError(405, `${context.method} is not allowed here`, {
      allow: allowed.join(', '),
    });
}

function sendPlainJson(res: ServerResponse, status: number, value: unknown): void {
  sendJson(res, status, value, 'application/json');
}

/** `/extendedquerytags…` */
export async function routeExtendedQueryTags(
  context: TagRouteContext,
  rest: string[],
): Promise<void> {
  const { service, res, baseUrl } = context;
  const [rawPath, sub, ...more] = rest;
  if (rawPath === undefined) {
    allow(context, ['GET', 'POST']);
    if (context.method === 'POST') {
      const operation = await service.add(await readJsonBody(context.req));
      // Azure: 202 Accepted with a reference to the reindex operation.
      sendPlainJson(res, 202, operationReference(operation, baseUrl));
      return;
    }
    const { offset, limit } = paging(context.search);
    sendPlainJson(
      res,
      200,
      service.list(offset, limit).map((tag) => tagJson(tag, baseUrl)),
    );
    return;
  }
  const path = parseTagPath(rawPath);
  if (!path) throw new HttpError(400, `"${rawPath.slice(0, 70)}" is not a valid tag path`);
  if (sub === undefined) {
    allow(context, ['GET', 'DELETE', 'PATCH']);
    if (context.method === 'DELETE') {
      await service.delete(path);
      res.writeHead(204);
      res.end();
      return;
    }
    const tag =
      context.method === 'PATCH'
        ? await service.setQueryStatus(path, await readJsonBody(context.req))
        : service.get(path);
    sendPlainJson(res, 200, tagJson(tag, baseUrl));
    return;
  }
  if (sub === 'errors' && more.length === 0) {
    allow(context, ['GET']);
    const tag = service.get(path);
    const { offset, limit } = paging(context.search);
    sendPlainJson(res, 200, tag.errors.slice(offset, offset + limit).map(errorJson));
    return;
  }
  throw new HttpError(404, `resource /extendedquerytags/${rest.join('/')} not found`);
}

/** `/operations/{id}`: 202 + Location while it runs, 200 once it ended (Azure). */
export function routeOperations(context: TagRouteContext, rest: string[]): void {
  allow(context, ['GET']);
  const [id, ...more] = rest;
  if (id === undefined || more.length > 0)
    throw new HttpError(404, `resource /operations/${rest.join('/')} not found`);
  if (!isOperationId(id)) throw new HttpError(400, `"${id.slice(0, 40)}" is not an operation id`);
  const operation = context.service.operations.get(id);
  if (!operation) throw new HttpError(404, `operation ${id} not found`);
  const body = operationJson(operation, context.baseUrl, context.apiVersion);
  if (!isEnded(operation.status))
    context.res.setHeader('location', operationReference(operation, context.baseUrl).href);
  sendPlainJson(context.res, isEnded(operation.status) ? 200 : 202, body);
}

function paging(search: string): { offset: number; limit: number } {
  let offset = 0;
  let limit = PAGE_DEFAULT_LIMIT;
  for (const [key, value] of parseQuery(search)) {
    const lower = key.toLowerCase();
    if (lower !== 'offset' && lower !== 'limit')
      throw new HttpError(400, `"${key.slice(0, 40)}" is not a parameter here (offset, limit)`);
    if (!/^\d{1,15}$/.test(value)) throw new HttpError(400, `${key} must be a whole number`);
    const n = Number(value);
    if (lower === 'limit') {
      if (n < 1 || n > PAGE_MAX_LIMIT)
        throw new HttpError(400, `limit must be between 1 and ${PAGE_MAX_LIMIT}`);
      limit = n;
    } else {
      offset = n;
    }
  }
  return { offset, limit };
}

/** Reads a JSON body of at most {@link MAX_TAG_REQUEST_BYTES}: 415 unless JSON, 400 if bad. */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'the body must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_TAG_REQUEST_BYTES)
      throw new HttpError(413, `the body is larger than ${MAX_TAG_REQUEST_BYTES} bytes`, {
        connection: 'close',
      });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
}
