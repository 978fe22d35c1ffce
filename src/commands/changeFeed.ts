/**
 * The change feed's commands (the "Change Feed" view, src/tree/ChangeFeedTreeProvider.ts):
 * open an entry's instance metadata, reveal the instance in the Servers view, follow the feed,
 * and pick the v2 time window.
 */
import * as vscode from 'vscode';
import { metadataUri } from '../documents/metadataDocuments';
import type { Services } from '../services';
import { ChangeFeedEntryNode, ChangeFeedNode, type FeedWindow } from '../tree/nodes/ChangeFeedNode';
import { UserCancelled } from './registerCommand';

function entryOf(node: unknown): ChangeFeedEntryNode {
  if (node instanceof ChangeFeedEntryNode) return node;
  throw new Error('Choose an entry of a change feed.');
}

function feedOf(node: unknown): ChangeFeedNode {
  if (node instanceof ChangeFeedNode) return node;
  throw new Error('Choose a change feed in the Change Feed view.');
}

/** A deleted instance cannot be opened or revealed: say so, once, in words. */
function sayDeleted(node: ChangeFeedEntryNode): 'deleted' {
  void vscode.window.showInformationMessage(
    `Instance ${node.entry.sopInstanceUid} has been deleted from ${node.parent.connection.name} (change #${node.entry.sequence} is ${node.entry.action}, state "deleted").`,
  );
  return 'deleted';
}

/**
 * `dicomweb.changeFeed.openEntry`: the instance's WADO-RS metadata as a read-only JSON
 * document (the same documents "Open Metadata" opens), or a sentence when it was deleted.
 */
export async function openChangeFeedEntry(node: unknown): Promise<vscode.TextEditor | 'deleted'> {
  const entryNode = entryOf(node);
  const { entry } = entryNode;
  if (entry.state === 'deleted') return sayDeleted(entryNode);
  const connection = entryNode.parent.connection;
  const uri = metadataUri(
    {
      connectionId: connection.id,
      studyInstanceUid: entry.studyInstanceUid,
      seriesInstanceUid: entry.seriesInstanceUid,
      sopInstanceUid: entry.sopInstanceUid,
      // With partitions on, the instance is at its partition's URL only.
      partition: entry.partitionName,
    },
    connection.name,
    `change ${entry.sequence} ${entry.sopInstanceUid} (instance metadata)`,
  );
  const document = await vscode.workspace.openTextDocument(uri);
  if (document.languageId !== 'json')
    await vscode.languages.setTextDocumentLanguage(document, 'json');
  return vscode.window.showTextDocument(document, { preview: true });
}

/** `dicomweb.changeFeed.reveal`: the instance in the Servers view (Find by UID's reveal). */
export async function revealChangeFeedEntry(services: Services, node: unknown): Promise<unknown> {
  const entryNode = entryOf(node);
  if (entryNode.entry.state === 'deleted') return sayDeleted(entryNode);
  await services.tree.getChildren();
  const server = services.tree.serverNode(entryNode.parent.connection.id);
  if (!server) throw new Error(`${entryNode.parent.connection.name} is not in the Servers view.`);
  return vscode.commands.executeCommand(
    'dicomweb.findByUid',
    server,
    entryNode.entry.sopInstanceUid,
  );
}

/** `dicomweb.changeFeed.follow` / `.unfollow`. */
export function followChangeFeed(node: unknown, on: boolean): void {
  feedOf(node).setFollowing(on);
}

const DAY = 86_400_000;

/**
 * `dicomweb.changeFeed.pickWindow`: the v2 time window (startTime inclusive, endTime
 * exclusive). A window may be passed (tests, other commands); v1 pages by sequence only.
 */
export async function pickChangeFeedWindow(node: unknown, given?: FeedWindow): Promise<void> {
  const feed = feedOf(node);
  if (feed.apiVersion === 1) {
    void vscode.window.showInformationMessage(
      `${feed.connection.name} uses API v1, whose change feed pages by sequence only: a time window needs a v2 service URL.`,
    );
    return;
  }
  feed.setWindow(given ?? (await askWindow()));
}

async function askWindow(): Promise<FeedWindow> {
  const now = Date.now();
  const picks: Array<vscode.QuickPickItem & { window?: FeedWindow }> = [
    { label: 'Last hour', window: { startTime: new Date(now - DAY / 24) } },
    { label: 'Last 24 hours', window: { startTime: new Date(now - DAY) } },
    { label: 'Last 7 days', window: { startTime: new Date(now - 7 * DAY) } },
    { label: 'All changes', window: {} },
    { label: 'Custom…', description: 'start and end as ISO 8601 date-times' },
  ];
  const pick = await vscode.window.showQuickPick(picks, { title: 'Change feed time window' });
  if (!pick) throw new UserCancelled();
  if (pick.window) return pick.window;
  const startTime = await askDate(
    'Start (inclusive), e.g. 2026-12-01T00:00Z; empty: the beginning',
  );
  const endTime = await askDate('End (exclusive); empty: now and later');
  if (startTime && endTime && startTime > endTime) throw new Error('The start is after the end.');
  return { startTime, endTime };
}

async function askDate(prompt: string): Promise<Date | undefined> {
  const text = await vscode.window.showInputBox({
    prompt,
    validateInput: (value) =>
      value.trim() === '' || !Number.isNaN(Date.parse(value.trim()))
        ? undefined
        : 'Not a date-time (ISO 8601, e.g. 2026-12-01T08:00Z)',
  });
  if (text === undefined) throw new UserCancelled();
  return text.trim() === '' ? undefined : new Date(Date.parse(text.trim()));
}
