/**
 * Reads the search output src/notebook/searchOutput.ts writes (SEARCH_MIME) and says what a
 * click on a row's "Show" posts to the extension. No DOM: the unit tests run exactly this
 * (test/unit/notebookSearch.test.ts), and the extension reads the message's type from here.
 */

/** The JSON the extension writes (src/notebook/searchOutput.ts; a unit test holds them equal). */
export interface SearchOutput {
  status: { status: string; ms: number; size: string; request: string };
  notes: string[];
  columns: Array<{ tag: string; keyword: string; uid: boolean }>;
  rows: Array<{ values: string[]; uid?: string }>;
  total: number;
  connectionId?: string;
}

/** Renderer → extension: show this UID in the tree, on this connection. */
export interface RevealMessage {
  type: 'reveal';
  connectionId: string;
  uid: string;
}

export function readSearchOutput(data: Uint8Array): SearchOutput {
  const output = JSON.parse(new TextDecoder().decode(data)) as SearchOutput;
  if (!Array.isArray(output.columns) || !Array.isArray(output.rows)) {
    throw new Error('The search output has no rows.');
  }
  return output;
}

/** What a click on row `index`'s "Show" posts; none when the row has no UID or no connection. */
export function revealMessage(output: SearchOutput, index: number): RevealMessage | undefined {
  const uid = output.rows[index]?.uid;
  if (!uid || output.connectionId === undefined) return undefined;
  return { type: 'reveal', connectionId: output.connectionId, uid };
}
