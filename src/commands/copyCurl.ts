/**
 * `dicomweb.node.copyCurl`: any request a node stands for, as the seed tutorial's cURL
 * command, with the credential replaced by a placeholder.
 */
import * as vscode from 'vscode';
import {
  framesRequest,
  metadataRequest,
  renderedRequest,
  retrieveInstanceSinglePartRequest,
  retrieveRequest,
  searchRequest,
  type InstancePath,
  type RequestSpec,
} from '../dicomweb/requests';
import { toJavaScript } from '../notebook/codeJavaScript';
import { toPython } from '../notebook/codePython';
import type { Services } from '../services';
import { filterToMatch } from '../tree/filter';
import { isResourceNode, type ResourceNode } from '../tree/nodes/resourceNode';
import type { ServerNode } from '../tree/nodes/ServerNode';
import { UserCancelled } from './registerCommand';

export interface NamedRequest {
  label: string;
  spec: RequestSpec;
  output?: string;
}

/** Every request a row stands for: searches and retrieves at its level, then its delete. */
export function requestsFor(node: ServerNode | ResourceNode): NamedRequest[] {
  if (!isResourceNode(node)) return serverRequests(node);
  const target = node.target;
  const client = node.client;
  const deletes = client.deleteRequests(target).map((spec, index, all) => ({
    label: `Delete${all.length > 1 ? ` (step ${index + 1} of ${all.length})` : ''} — ${client.serverProfile.label}`,
    spec,
  }));
  const ofLevel =
    node.level === 'instance'
      ? instanceRequests(node.target)
      : node.level === 'series'
        ? seriesRequests(target)
        : studyRequests(target);
  return [...ofLevel, ...deletes];
}

/**
 * A server row: its study search, with the row's filter (PS3.18 §10.6); with data partitions
 * on, first their list (a partition row, which has no `partitions`, searches in itself).
 */
function serverRequests(node: ServerNode): NamedRequest[] {
  const partitions: NamedRequest[] = node.partitions?.enabled
    ? [
        {
          label: 'List data partitions (Azure DICOM service)',
          spec: { method: 'GET', path: '/partitions', headers: { Accept: 'application/json' } },
        },
      ]
    : [];
  return [
    ...partitions,
    {
      label: 'Search for studies (QIDO-RS)',
      spec: searchRequest('studies', {}, { match: filterToMatch(node.filter), limit: 50 }),
    },
  ];
}

function studyRequests(target: InstancePath): NamedRequest[] {
  return [
    {
      label: 'Retrieve all instances of the study (WADO-RS)',
      spec: retrieveRequest(target),
      output: 'study.multipart',
    },
    { label: 'Retrieve the metadata of the study', spec: metadataRequest(target) },
    {
      label: 'Search for series in the study (QIDO-RS)',
      spec: searchRequest('series', { studyInstanceUid: target.studyInstanceUid }),
    },
    {
      label: 'Search for this study (QIDO-RS)',
      spec: searchRequest('studies', {}, { match: { StudyInstanceUID: target.studyInstanceUid } }),
    },
  ];
}

function seriesRequests(target: InstancePath): NamedRequest[] {
  return [
    {
      label: 'Retrieve all instances of the series (WADO-RS)',
      spec: retrieveRequest(target),
      output: 'series.multipart',
    },
    { label: 'Retrieve the metadata of the series', spec: metadataRequest(target) },
    {
      label: 'Search for instances in the series (QIDO-RS)',
      spec: searchRequest('instances', {
        studyInstanceUid: target.studyInstanceUid,
        seriesInstanceUid: target.seriesInstanceUid,
      }),
    },
  ];
}

function instanceRequests(target: Required<InstancePath>): NamedRequest[] {
  return [
    {
      label: 'Retrieve the instance (WADO-RS, multipart)',
      spec: retrieveRequest(target),
      output: 'instance.multipart',
    },
    {
      label: 'Retrieve the instance as application/dicom (single part)',
      spec: retrieveInstanceSinglePartRequest(target),
      output: `${target.sopInstanceUid}.dcm`,
    },
    { label: 'Retrieve the metadata of the instance', spec: metadataRequest(target) },
    {
      label: 'Retrieve frame 1 (Explicit VR Little Endian)',
      spec: framesRequest(target, [1], { transferSyntax: '1.2.840.10008.1.2.1' }),
      output: 'frame1.multipart',
    },
    {
      label: 'Retrieve frame 1 rendered as PNG',
      spec: renderedRequest(target, 1, { mediaType: 'image/png' }),
      output: 'frame1.png',
    },
    {
      label: 'Search for this instance (QIDO-RS)',
      spec: searchRequest('instances', {}, { match: { SOPInstanceUID: target.sopInstanceUid } }),
    },
  ];
}

async function pickRequest(
  node: ServerNode | ResourceNode,
  which: number | undefined,
  as: string,
): Promise<NamedRequest> {
  const requests = requestsFor(node);
  const chosen = which !== undefined ? requests[which] : undefined;
  if (chosen) return chosen;
  const picked = await vscode.window.showQuickPick(
    requests.map((request) => ({
      label: request.label,
      description: `${request.spec.method} ${request.spec.path}`,
      request,
    })),
    { title: `Copy which request as ${as}?` },
  );
  if (!picked) throw new UserCancelled();
  return picked.request;
}

export async function copyCurl(
  _services: Services,
  node: ServerNode | ResourceNode,
  _nodes?: unknown,
  which?: number,
): Promise<string> {
  const chosen = await pickRequest(node, which, 'cURL');
  const text = node.client.curlOf(chosen.spec, { outputFile: chosen.output });
  await vscode.env.clipboard.writeText(text);
  vscode.window.setStatusBarMessage(
    'Copied the cURL command (the credential is a placeholder)',
    4000,
  );
  return text;
}

const LANGUAGES = {
  python: { name: 'Python (dicomweb-client)', print: toPython },
  javascript: { name: 'JavaScript (dicomweb-client)', print: toJavaScript },
} as const;

/**
 * `dicomweb.node.copyPython` / `copyJavaScript`: the same requests as Copy as cURL, as a
 * script using the `dicomweb-client` library of that language (src/notebook/code*.ts).
 */
export async function copyAsCode(
  language: keyof typeof LANGUAGES,
  node: ServerNode | ResourceNode,
  which?: number,
): Promise<string> {
  const { name, print } = LANGUAGES[language];
  const chosen = await pickRequest(node, which, name);
  const text = print(chosen.spec, node.client.codeConnection());
  await vscode.env.clipboard.writeText(text);
  vscode.window.setStatusBarMessage(`Copied as ${name} (the credential is a placeholder)`, 4000);
  return text;
}
