/**
 * What to upload from a drop on the tree, decided without `vscode` (tested on its own).
 *
 * A drop names files by URI (`text/uri-list`, a DataTransferFile's `uri`) and may carry
 * their bytes (DataTransferFile.data()). In a local window the URIs are files the
 * extension host can read: they are uploaded from disk, streamed. In a remote window
 * (Remote-SSH, WSL, Dev Containers, Codespaces, code-server) files dragged from the
 * person's desktop carry paths of *their* machine, which the extension host (on the
 * remote) cannot open; their bytes come only through the drop's data.
 */

/** A URI of the drop, with whether the extension host can read it. */
export interface DroppedUri {
  uri: string;
  /** A `file:` URI that exists on the extension host's disk, or another scheme (upload decides). */
  readable: boolean;
}

/** A DataTransferFile of the drop. */
export interface DroppedFile {
  name: string;
  uri?: DroppedUri;
}

export interface DropPlan {
  /** URIs uploaded as they are. */
  uris: string[];
  /**
   * Indexes into the dropped files whose bytes are read through the drop and written to a temporary
   * folder.
   */
  fromData: number[];
}

export function planDrop(listed: readonly DroppedUri[], files: readonly DroppedFile[]): DropPlan {
  const uris: string[] = [];
  const add = (uri: string) => {
    if (!uris.includes(uri)) uris.push(uri);
  };
  for (const entry of listed) if (entry.readable) add(entry.uri);
  const fromData: number[] = [];
  files.forEach((file, index) => {
    if (file.uri?.readable) add(file.uri.uri);
    else fromData.push(index);
  });
  // Paths the host cannot read are the person's own files when the drop carries bytes:
  // sent from those bytes. Without any, they go to the upload as before, which names them.
  if (fromData.length === 0) for (const entry of listed) if (!entry.readable) add(entry.uri);
  return { uris, fromData };
}

/**
 * A file name for a dropped file's bytes in the temporary folder: its last path segment
 * only (a name is the sender's; `..` or a separator must not leave the folder), no control
 * characters, and unique within the drop (two `IM0001` from two folders).
 */
export function temporaryFileName(name: string, index: number, taken: Set<string>): string {
  // eslint-disable-next-line no-control-regex
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  let candidate = base === '' || base === '.' || base === '..' ? `dropped-${index + 1}` : base;
  if (taken.has(candidate.toLowerCase())) candidate = `${index + 1}-${candidate}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}
