/**
 * What the client and the server import from src/mime for multipart/related (PS3.18
 * §8.7.3.5, RFC 2387): the names as they were when this was one file. Each lives in the
 * file that does that one job:
 * - errors.ts — MultipartError and its codes
 * - contentType.ts — media types and their parameters (the one header-parameter parser)
 * - partHeaders.ts — a part's header block and its limit
 * - parser.ts — the grammar: the push parser
 * - reader.ts — the pull wrapper: an async iterator of parts with streamed bodies
 * - writer.ts — multipart bodies, their exact length, boundaries
 */
export { MultipartError, type MultipartErrorCode } from './errors';
export { parseContentType, transferSyntaxFromType } from './contentType';
export { MultipartPushParser, type MultipartPushHandler } from './parser';
export {
  parseMultipart,
  readPartBody,
  rootPartIndex,
  sameContentId,
  type MultipartPart,
  type ParseMultipartOptions,
} from './reader';
export {
  multipartBody,
  multipartContentType,
  multipartLength,
  newBoundary,
  type MultipartWriterPart,
} from './writer';
