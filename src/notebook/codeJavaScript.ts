/**
 * A request as a JavaScript (CommonJS) script using the npm `dicomweb-client` (dcmjs-org,
 * `new api.DICOMwebClient({ url, headers })`). The library speaks through XMLHttpRequest, so
 * in Node the script needs one installed on `globalThis` first (a browser has its own). Its
 * 0.11 API has no delete call: a delete is printed as the same request sent with fetch.
 * The credential is printed as a placeholder.
 */
import type { RequestSpec } from '../dicomweb/requests';
import {
  clientHeaders,
  libraryCall,
  requestUrl,
  serviceUrl,
  type CodeOptions,
  type LibraryCall,
} from './code';

const js = (value: unknown): string => JSON.stringify(value);

export function toJavaScript(spec: RequestSpec, options: CodeOptions): string {
  const call = libraryCall(spec);
  const headers = clientHeaders(options);
  if (call?.op === 'delete' || !call) return fetchScript(spec, options, headers, call);
  const lines = [
    '// npm install dicomweb-client',
    '// In Node, set globalThis.XMLHttpRequest first (e.g. from the xhr2 package).',
    "const { api } = require('dicomweb-client');",
    '',
    'const client = new api.DICOMwebClient({',
    `  url: ${js(serviceUrl(options))},`,
    `  headers: ${js(headers)},`,
    '});',
    '',
    ...callLines(call),
  ];
  return `${lines.join('\n')}\n`;
}

function fetchScript(
  spec: RequestSpec,
  options: CodeOptions,
  headers: Record<string, string>,
  call: LibraryCall | undefined,
): string {
  const why = call
    ? '// dicomweb-client (npm, 0.11) has no delete call; the same request with fetch:'
    : '// dicomweb-client has no call for this request (not a DICOMweb resource); with fetch:';
  return `${[
    why,
    `fetch(${js(requestUrl(spec, options))}, {`,
    `  method: ${js(spec.method)},`,
    `  headers: ${js({ ...spec.headers, ...headers })},`,
    '})',
    '  .then((response) => console.log(response.status, response.statusText))',
    '  .catch((error) => console.error(error.message ?? error));',
  ].join('\n')}\n`;
}

function uids(call: LibraryCall): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (call.study) options.studyInstanceUID = call.study;
  if (call.series) options.seriesInstanceUID = call.series;
  if (call.instance) options.sopInstanceUID = call.instance;
  return options;
}

const LEVEL_NAME = { studies: 'Study', series: 'Series', instances: 'Instance' } as const;
const SEARCH_NAME = { studies: 'Studies', series: 'Series', instances: 'Instances' } as const;

const CATCH = '  .catch((error) => console.error(error.message ?? error));';
const PRINT_JSON = '.then((result) => console.log(JSON.stringify(result, null, 2)))';
const PRINT_SIZES =
  '.then((result) => console.log([].concat(result).map((part) => part.byteLength)))';

function invoke(method: string, options: Record<string, unknown>, then: string): string[] {
  return [`client.${method}(${JSON.stringify(options, null, 2)})`, `  ${then}`, CATCH];
}

function mediaTypes(call: LibraryCall): Record<string, unknown> {
  if (!call.mediaType) return {};
  const mediaType: Record<string, string> = { mediaType: call.mediaType };
  if (call.transferSyntax) mediaType.transferSyntaxUID = call.transferSyntax;
  return { mediaTypes: [mediaType] };
}

function callLines(call: LibraryCall): string[] {
  const level = LEVEL_NAME[call.level];
  switch (call.op) {
    case 'search': {
      const queryParams = Object.fromEntries(call.query);
      const options = { ...uids(call), ...(call.query.length ? { queryParams } : {}) };
      return invoke(`searchFor${SEARCH_NAME[call.level]}`, options, PRINT_JSON);
    }
    case 'metadata':
      return invoke(`retrieve${level}Metadata`, uids(call), PRINT_JSON);
    case 'retrieve':
      // 0.11 refuses any mediaTypes here (its type check compares "application/" with
      // "application/dicom"), so the library's own Accept goes: multipart/related;
      // type="application/dicom", which PS3.18 §8.7.3.5.2 answers as Explicit VR Little Endian.
      return [
        `// Asks with the library's default Accept (multipart/related; type="application/dicom");`,
        `// the copied request asked for: ${call.mediaType ?? 'the default'}${call.transferSyntax ? `; transfer-syntax=${call.transferSyntax}` : ''}`,
        ...invoke(`retrieve${level}`, uids(call), PRINT_SIZES),
      ];
    case 'frames':
      return invoke(
        'retrieveInstanceFrames',
        { ...uids(call), frameNumbers: call.frames, ...mediaTypes(call) },
        PRINT_SIZES,
      );
    case 'rendered':
      return invoke(
        call.frames ? 'retrieveInstanceFramesRendered' : 'retrieveInstanceRendered',
        {
          ...uids(call),
          ...(call.frames ? { frameNumbers: call.frames } : {}),
          ...(call.mediaType ? { mediaTypes: [{ mediaType: call.mediaType }] } : {}),
        },
        PRINT_SIZES,
      );
    default:
      return storeLines(call);
  }
}

function storeLines(call: LibraryCall): string[] {
  return [
    "const { readFileSync } = require('node:fs');",
    '',
    `const datasets = ${js(call.files)}.map((path) => new Uint8Array(readFileSync(path)).buffer);`,
    `client.storeInstances({ ${call.study ? `studyInstanceUID: ${js(call.study)}, ` : ''}datasets })`,
    "  .then(() => console.log('stored', datasets.length))",
    CATCH,
  ];
}
