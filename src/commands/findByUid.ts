import * as vscode from 'vscode';
import type { DicomWebClient } from '../dicomweb/client';
import { locateUid, type Located, type LocateFields } from '../dicomweb/locate';
import { redactUrl } from '../dicomweb/transport/errors';
import { parseUidInput, type UidSearch } from '../dicomweb/uidInput';
import type { Services } from '../services';
import { INSTANCE_FIELDS } from '../tree/models/instance';
import { SERIES_FIELDS } from '../tree/models/series';
import { STUDY_FIELDS } from '../tree/models/study';
import type { ResourceNode } from '../tree/nodes/resourceNode';
import { DicomWebNode, PagedNode } from '../tree/nodes/DicomWebNode';
import type { PartitionNode } from '../tree/nodes/PartitionNode';
import type { ServerNode } from '../tree/nodes/ServerNode';
import { revealAndSelect } from '../tree/reveal';
import { sentenceOf, UserCancelled } from './registerCommand';

/** The attributes the tree's rows show, asked for while locating so the rows read the same. */
const FIELDS: LocateFields = {
  study: STUDY_FIELDS,
  series: SERIES_FIELDS,
  instance: INSTANCE_FIELDS,
};

/** What a search found where; returned for tests and other commands. */
export interface FindByUidResult {
  wanted: UidSearch;
  /** The rows shown, one per server that has the UID, in the tree's order. */
  found: Array<{ server: string; node: ResourceNode; warning?: string }>;
  /** One sentence per server that does not have it (or could not be searched). */
  notFound: string[];
  /** The row revealed and selected: the first found. */
  revealed?: ResourceNode;
}

/**
 * Servers searched: one row's, or every configured connection, or one connection by its id
 * (a notebook's search row reveals on its cell's connection, src/notebookHost/rendererLink.ts).
 */
type Where = ServerNode | 'all' | { connectionId: string };

/**
 * `dicomweb.findByUid`: a Study, Series or SOP Instance UID, or a DICOMweb / WADO / viewer
 * URL (src/dicomweb/uidInput.ts), located by QIDO on one server or on all of them
 * (src/dicomweb/locate.ts); the tree shows the rows down to it and selects the deepest, or
 * each server's sentence says what was not found there. From a server row (its search
 * button) it searches that server; from the palette, the one configured, or the one picked,
 * or all. Tests pass the server (or `'all'`) and the text.
 */
export async function findByUid(
  services: Services,
  target?: Where,
  text?: string,
): Promise<FindByUidResult> {
  const where = target ?? (await chooseServers(services));
  const servers =
    where === 'all'
      ? await allServers(services)
      : 'connectionId' in where
        ? [await serverOf(services, where.connectionId)]
        : [where];
  const wanted = parseUidInput(text ?? (await askForUid(servers)));
  const outcomes = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Finding ${wanted.uid}…`,
      cancellable: true,
    },
    (_progress, token) => searchServers(services, servers, wanted, token),
  );
  const result: FindByUidResult = { wanted, found: [], notFound: [] };
  for (const [index, server] of servers.entries()) {
    const outcome = outcomes[index];
    if ('notFound' in outcome) {
      result.notFound.push(outcome.notFound);
      continue;
    }
    const node = await (outcome.partition ?? server).place(outcome.found);
    result.found.push({ server: server.connection.name, node, warning: outcome.found.warning });
  }
  await show(services, result);
  return result;
}

async function allServers(services: Services): Promise<ServerNode[]> {
  await services.tree.getChildren();
  const servers = services.tree.serverNodes();
  if (servers.length === 0) {
    // As pickServer says it: nothing to search is not a failure.
    void vscode.window.showInformationMessage(
      'No DICOMweb server is configured. Add one with "DICOMweb: Add a DICOMweb Server…".',
    );
    throw new UserCancelled();
  }
  return servers;
}

async function serverOf(services: Services, connectionId: string): Promise<ServerNode> {
  const server = (await allServers(services)).find((node) => node.connection.id === connectionId);
  if (!server) throw new Error('This connection is no longer in the DICOMweb tree.');
  return server;
}

/** From the palette: the only server, or the one picked, or "All servers". */
async function chooseServers(services: Services): Promise<Where> {
  const servers = await allServers(services);
  if (servers.length === 1) return servers[0];
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'All servers', description: `${servers.length} connections`, where: 'all' as Where },
      ...servers.map((server) => ({
        label: server.connection.name,
        description: redactUrl(server.connection.url),
        where: server as Where,
      })),
    ],
    { title: 'Find by UID on which server?' },
  );
  if (!picked) throw new UserCancelled();
  return picked.where;
}

/**
 * The input box, checking as the person types (PS3.5 §9.1 reasons, URL shapes). What the
 * clipboard holds is offered when it is a UID or such a URL: that is where a pasted UID
 * comes from.
 */
async function askForUid(servers: ServerNode[]): Promise<string> {
  const clipboard = (await vscode.env.clipboard.readText().then(undefined, () => '')).trim();
  const text = await vscode.window.showInputBox({
    title: `Find by UID on ${servers.length === 1 ? servers[0].connection.name : 'all servers'}`,
    prompt: 'A Study, Series or SOP Instance UID, or a DICOMweb, WADO-URI or viewer URL.',
    placeHolder: '1.2.840.113619.2.55.3…   or   https://…/studies/…/series/…',
    value: problemOf(clipboard) === undefined ? clipboard : '',
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() ? problemOf(value) : undefined),
  });
  if (text === undefined || !text.trim()) throw new UserCancelled();
  return text;
}

function problemOf(text: string): string | undefined {
  if (!text) return 'empty';
  try {
    parseUidInput(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Each server searched at once; a server that fails says so in its own sentence. */
async function searchServers(
  services: Services,
  servers: ServerNode[],
  wanted: UidSearch,
  token: vscode.CancellationToken,
): Promise<Array<{ found: Located; partition?: PartitionNode } | { notFound: string }>> {
  const abort = new AbortController();
  const cancel = token.onCancellationRequested(() => abort.abort());
  try {
    const outcomes = await Promise.all(
      servers.map(async (server) => {
        const where = `${server.connection.name} (${redactUrl(server.connection.url)})`;
        try {
          const locate = (client: DicomWebClient) =>
            locateUid(client, wanted, where, FIELDS, { signal: abort.signal });
          // With data partitions on, each partition is searched (PartitionNode.ts).
          const inPartitions = await server.partitions.locate(locate);
          if (inPartitions) return { ...inPartitions.outcome, partition: inPartitions.row };
          return await locate(server.client);
        } catch (error) {
          if (abort.signal.aborted) throw new UserCancelled();
          services.log.warn(`Find by UID on ${where}: ${sentenceOf(error)}`);
          return { notFound: `Could not search ${where}: ${sentenceOf(error)}` };
        }
      }),
    );
    for (const [index, outcome] of outcomes.entries()) {
      services.log.info(
        'found' in outcome
          ? `Find by UID: ${wanted.uid} is a ${outcome.found.level} on ${servers[index].connection.name}`
          : `Find by UID: ${outcome.notFound}`,
      );
    }
    return outcomes;
  } finally {
    cancel.dispose();
  }
}

/** Reveals and selects the first row found; says what was not found, or where else it is. */
async function show(services: Services, result: FindByUidResult): Promise<void> {
  const [first, ...others] = result.found;
  if (!first) {
    void vscode.window.showWarningMessage(result.notFound.join(' '));
    return;
  }
  result.revealed = first.node;
  await revealAndSelect(services.treeView, first.node, services.log, { expand: true });
  for (const { warning } of result.found)
    if (warning) void vscode.window.showWarningMessage(warning);
  if (others.length > 0) {
    void vscode.window.showInformationMessage(
      `${first.node.summary} is also on ${others.map((other) => other.server).join(', ')}: shown there too.`,
    );
  }
}

/** `dicomweb.node.dismissFound`: takes a row "Find by UID…" pinned away from its parent. */
export function dismissFound(node: unknown): void {
  if (node instanceof DicomWebNode && node.parent instanceof PagedNode) node.parent.unpin(node);
}
