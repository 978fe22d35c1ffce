/**
 * A request as a Python script using `dicomweb-client` (pip install dicomweb-client), calling
 * only the methods its API reference documents (dicomweb_client.api.DICOMwebClient,
 * https://dicomweb-client.readthedocs.io/en/latest/package.html). The credential is printed as
 * a placeholder.
 */
import type { RequestSpec } from '../dicomweb/requests';
import {
  clientHeaders,
  libraryCall,
  queryValue,
  requestUrl,
  searchFilters,
  serviceUrl,
  type CodeOptions,
  type LibraryCall,
} from './code';

/** A Python string literal (JSON's escapes are valid Python for these characters). */
function py(value: string): string {
  return JSON.stringify(value);
}

function pyDict(entries: Array<[string, string]>): string {
  return `{${entries.map(([key, value]) => `${py(key)}: ${py(value)}`).join(', ')}}`;
}

export function toPython(spec: RequestSpec, options: CodeOptions): string {
  const call = libraryCall(spec);
  const lines = [
    '# pip install dicomweb-client',
    'import json',
    '',
    'from dicomweb_client.api import DICOMwebClient',
    '',
    'client = DICOMwebClient(',
    `    url=${py(serviceUrl(options))},`,
    `    headers=${pyDict(Object.entries(clientHeaders(options)))},`,
    ')',
  ];
  if (!call) {
    lines.push(
      '',
      `# dicomweb-client has no call for ${spec.method} ${requestUrl(spec, options)}`,
      '# (not a DICOMweb resource); send it with Copy as cURL instead.',
    );
    return `${lines.join('\n')}\n`;
  }
  lines.push('', ...callLines(call));
  return `${lines.join('\n')}\n`;
}

function uidArgs(call: LibraryCall): string[] {
  const args: string[] = [];
  if (call.study) args.push(`study_instance_uid=${py(call.study)}`);
  if (call.series) args.push(`series_instance_uid=${py(call.series)}`);
  if (call.instance) args.push(`sop_instance_uid=${py(call.instance)}`);
  return args;
}

const LEVEL_NAME = { studies: 'study', series: 'series', instances: 'instance' } as const;

function mediaTypes(call: LibraryCall): string | undefined {
  if (!call.mediaType) return undefined;
  return call.transferSyntax
    ? `media_types=((${py(call.mediaType)}, ${py(call.transferSyntax)}),)`
    : `media_types=(${py(call.mediaType)},)`;
}

function invoke(method: string, args: string[]): string[] {
  return [`result = client.${method}(`, ...args.map((arg) => `    ${arg},`), ')'];
}

const PRINT_JSON = 'print(json.dumps(result, indent=2))';

function callLines(call: LibraryCall): string[] {
  const level = LEVEL_NAME[call.level];
  switch (call.op) {
    case 'search':
      return [...invoke(`search_for_${call.level}`, searchArgs(call)), PRINT_JSON];
    case 'metadata':
      return [...invoke(`retrieve_${level}_metadata`, uidArgs(call)), PRINT_JSON];
    case 'retrieve':
      return [
        ...invoke(`retrieve_${level}`, [...uidArgs(call), ...optional(mediaTypes(call))]),
        'print(result)',
      ];
    case 'frames':
      return [
        ...invoke('retrieve_instance_frames', [
          ...uidArgs(call),
          `frame_numbers=${JSON.stringify(call.frames)}`,
          ...optional(mediaTypes(call)),
        ]),
        'print([len(frame) for frame in result])',
      ];
    case 'rendered':
      return renderedLines(call);
    case 'store':
      return storeLines(call);
    case 'delete':
      return [`client.delete_${level}(`, ...uidArgs(call).map((arg) => `    ${arg},`), ')'];
  }
}

function optional(value: string | undefined): string[] {
  return value ? [value] : [];
}

function searchArgs(call: LibraryCall): string[] {
  const args: string[] = [];
  if (call.study) args.push(`study_instance_uid=${py(call.study)}`);
  if (call.series) args.push(`series_instance_uid=${py(call.series)}`);
  const filters = searchFilters(call.query);
  if (filters.length) args.push(`search_filters=${pyDict(filters)}`);
  const fields = queryValue(call.query, 'includefield');
  if (fields) args.push(`fields=${JSON.stringify(fields.split(','))}`);
  const limit = queryValue(call.query, 'limit');
  if (limit && /^\d+$/.test(limit)) args.push(`limit=${limit}`);
  const offset = queryValue(call.query, 'offset');
  if (offset && /^\d+$/.test(offset)) args.push(`offset=${offset}`);
  if (queryValue(call.query, 'fuzzymatching') === 'true') args.push('fuzzymatching=True');
  return args;
}

function renderedLines(call: LibraryCall): string[] {
  const media = call.mediaType ? [`media_types=(${py(call.mediaType)},)`] : [];
  const method = call.frames ? 'retrieve_instance_frames_rendered' : 'retrieve_instance_rendered';
  const frames = call.frames ? [`frame_numbers=${JSON.stringify(call.frames)}`] : [];
  return [
    ...invoke(method, [...uidArgs(call), ...frames, ...media]),
    'with open("rendered.bin", "wb") as output:',
    '    output.write(result)',
  ];
}

function storeLines(call: LibraryCall): string[] {
  return [
    'from pydicom import dcmread',
    '',
    `datasets = [dcmread(path) for path in ${JSON.stringify(call.files)}]`,
    ...invoke('store_instances', [
      'datasets=datasets',
      ...(call.study ? [`study_instance_uid=${py(call.study)}`] : []),
    ]),
    'print(result)',
  ];
}
