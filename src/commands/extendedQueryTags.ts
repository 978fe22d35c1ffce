/**
 * Extended query tags of an Azure DICOM service or the local server ("Extended query tags
 * overview"): Add (keyword or (gggg,eeee), its VR from the PS3.6 dictionary, the level,
 * the private creator of a private tag), then follow the reindex operation; Delete with a
 * modal confirm naming the tag; Enable/Disable QIDO on it.
 */
import * as vscode from 'vscode';
import { formatTag, isPrivateTag, lookupTag, resolveTag } from '../dicom/dictionary';
import { EXTENDED_QUERY_TAG_VRS } from '../dicom/extendedQueryTagVrs';
import {
  type ExtendedQueryTagLevel,
  type ExtendedQueryTagToAdd,
  type OperationState,
} from '../dicomweb/extendedQueryTags';
import type { Services } from '../services';
import {
  ExtendedQueryTagNode,
  ExtendedQueryTagsNode,
  tagLabel,
} from '../tree/nodes/ExtendedQueryTagsNode';
import { ServerNode } from '../tree/nodes/ServerNode';
import { followOperation } from './operations';
import { pickServer } from './pickServer';
import { UserCancelled } from './registerCommand';

const LEVELS: ExtendedQueryTagLevel[] = ['Study', 'Series', 'Instance'];

/** What "Add Extended Query Tag…" adds and what it ended with. */
export interface AddTagResult {
  tag: ExtendedQueryTagToAdd;
  operationId: string;
  /** The operation's last state; undefined when the person stopped following it. */
  operation?: OperationState;
}

/** The server a tag command acts on: the row's, or the one picked among those that serve tags. */
async function serverOf(services: Services, node: unknown): Promise<ServerNode> {
  if (node instanceof ServerNode) return node;
  if (node instanceof ExtendedQueryTagsNode) return node.parent as ServerNode;
  if (node instanceof ExtendedQueryTagNode) return node.parent.parent as ServerNode;
  return pickServer(services, 'Extended query tags of which server?', {
    accept: (server) => server.client.serverProfile.capabilities.extendedQueryTags,
    none: 'No connection serves extended query tags (Azure DICOM service, local server).',
  });
}

/**
 * `dicomweb.extendedQueryTag.add`: asks for the tag (unless `input` gives it), adds it, and
 * follows the reindex with a progress notification until it ends; the tree then shows it.
 */
export async function addExtendedQueryTag(
  services: Services,
  node?: unknown,
  input?: ExtendedQueryTagToAdd,
): Promise<AddTagResult> {
  const server = await serverOf(services, node);
  const tag = input ?? (await askForTag(server.connection.name));
  const reference = await server.client.addExtendedQueryTags([tag]);
  services.log.info(
    `[${server.connection.name}] extended query tag ${tag.path} (${tag.level}) added; reindex operation ${reference.id}`,
  );
  server.tagsChanged();
  try {
    const operation = await followOperation(
      services,
      server.client,
      reference.id,
      `Indexing ${tagLabel({ ...tag, path: resolveTag(tag.path) ?? tag.path })} on ${server.connection.name}`,
    );
    return { tag, operationId: reference.id, ...(operation ? { operation } : {}) };
  } finally {
    server.tagsChanged();
  }
}

/** The questions of "Add Extended Query Tag…": tag, then creator and VR when needed, level. */
async function askForTag(serverName: string): Promise<ExtendedQueryTagToAdd> {
  const text = await vscode.window.showInputBox({
    title: `Add an extended query tag on ${serverName}`,
    prompt: 'A keyword (PatientWeight) or a tag (0010,1030 or 00101030)',
    validateInput: (value) =>
      resolveTag(value.trim()) ? undefined : 'Not a keyword or tag of the DICOM dictionary',
    ignoreFocusOut: true,
  });
  if (text === undefined) throw new UserCancelled();
  const path = resolveTag(text.trim())!;
  const info = lookupTag(path);
  const privateData = isPrivateTag(path) && parseInt(path.slice(4), 16) > 0xff;
  let privateCreator: string | undefined;
  if (privateData) {
    privateCreator = (
      await vscode.window.showInputBox({
        title: `Private creator of ${formatTag(path)}`,
        prompt: `The Private Creator value of the block (${path.slice(0, 4)},00${path.slice(4, 6)}) (PS3.5 §7.8.1)`,
        ignoreFocusOut: true,
      })
    )?.trim();
    if (!privateCreator) throw new UserCancelled();
  }
  const vr = await pickVr(path, privateData || !info ? undefined : info.vr);
  const level = await vscode.window.showQuickPick(LEVELS, {
    title: `Level of ${info?.keyword || formatTag(path)}`,
    placeHolder: 'QIDO matches the tag at this level (study, series or instance searches)',
  });
  if (!level) throw new UserCancelled();
  return {
    path,
    level: level as ExtendedQueryTagLevel,
    vr,
    ...(privateCreator ? { privateCreator } : {}),
  };
}

/** The dictionary's VR when it has one the service indexes; otherwise the person picks. */
async function pickVr(path: string, dictionaryVr: string | undefined): Promise<string> {
  const candidates = dictionaryVr
    ? dictionaryVr.split(' or ').filter((vr) => EXTENDED_QUERY_TAG_VRS.includes(vr))
    : [...EXTENDED_QUERY_TAG_VRS];
  if (candidates.length === 0) {
    throw new Error(
      `${formatTag(path)} has VR ${dictionaryVr}, which extended query tags cannot index (only ${EXTENDED_QUERY_TAG_VRS.join(', ')}).`,
    );
  }
  if (candidates.length === 1) return candidates[0]!;
  const picked = await vscode.window.showQuickPick(candidates, {
    title: `VR of ${formatTag(path)}`,
  });
  if (!picked) throw new UserCancelled();
  return picked;
}

/** `dicomweb.extendedQueryTag.delete`: a modal confirm naming the tag, then DELETE. */
export async function deleteExtendedQueryTag(services: Services, node: unknown): Promise<boolean> {
  if (!(node instanceof ExtendedQueryTagNode)) throw new UserCancelled();
  const server = node.parent.parent as ServerNode;
  const name = `${node.label} ${formatTag(node.tag.path)}`;
  const confirmed = await services.prompts.confirm(
    `Delete the extended query tag ${name} from ${server.connection.name}?`,
    'QIDO will no longer match on it and its indexed values are dropped; the stored instances do not change.',
    'Delete',
  );
  if (!confirmed) return false;
  try {
    await server.client.deleteExtendedQueryTag(node.tag.path);
    services.log.info(`[${server.connection.name}] extended query tag ${node.tag.path} deleted`);
  } finally {
    server.tagsChanged();
  }
  return true;
}

/** `dicomweb.extendedQueryTag.enableQuery` / `.disableQuery`: PATCH its QueryStatus. */
export async function setExtendedQueryTagQuery(
  services: Services,
  node: unknown,
  enabled: boolean,
): Promise<void> {
  if (!(node instanceof ExtendedQueryTagNode)) throw new UserCancelled();
  const server = node.parent.parent as ServerNode;
  try {
    await server.client.updateExtendedQueryTag(node.tag.path, {
      queryStatus: enabled ? 'Enabled' : 'Disabled',
    });
    services.log.info(
      `[${server.connection.name}] extended query tag ${node.tag.path}: query ${enabled ? 'enabled' : 'disabled'}`,
    );
  } finally {
    server.tagsChanged();
  }
}
