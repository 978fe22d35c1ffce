/**
 * What a tree row and the log say about a failed request. No `vscode` import: the wording
 * is unit-tested on its own (test/unit/treeErrorText.test.ts).
 */
import { redactUrlsIn } from '../../dicomweb/transport/errors';

/** The part of a connection the wording needs: its name and how it authenticates. */
export interface NamedConnection {
  name: string;
  auth?: string;
}

/**
 * The row's label. A 401 to a request that carried a credential means the server refused
 * it (RFC 9110 §15.5.2; RFC 6750 §3.1 `invalid_token`), whatever its body says: the local
 * server's body read "a bearer token is required" although one was sent. Clicking the row
 * retries, and the retry asks for the credential again (ClientFactory.askAgain). A 401 to a
 * request sent without one (a workspace connection not approved yet) keeps the server's words.
 */
export function describeError(error: unknown, connection?: NamedConnection): string {
  const status = (error as { status?: number }).status;
  const serverMessage = (error as { serverMessage?: string }).serverMessage;
  const code = (error as { code?: string }).code;
  if (status === 401 && connection && refusedCredential(error, connection)) {
    return `Not authorized (401): "${connection.name}" refused the ${credentialName(connection.auth)}; click to enter it again`;
  }
  if (status === 401 || status === 403)
    return `Not authorized (${status})${serverMessage ? `: ${serverMessage}` : ''}`;
  if (status !== undefined)
    return `The server answered ${status}${serverMessage ? `: ${serverMessage}` : ''}`;
  if (code === 'NETWORK')
    return `Cannot reach the server: ${(error as Error).message.replace(/^\w+ \S+ failed: /, '')}`;
  if (code === 'TIMEOUT') return 'The server did not answer in time';
  return redactUrlsIn((error as Error)?.message ?? String(error));
}

/** For the log and the row's tooltip: never a URL's user info (issue 10, finding 4c). */
export function detailOf(error: unknown): string {
  return redactUrlsIn(error instanceof Error ? error.message : String(error));
}

/**
 * The log line of a row that failed to load: the connection by the name the person gave it
 * (the tree's node ids carry an internal connection id nobody can map back).
 */
export function failureLogLine(connection: NamedConnection, what: string, error: unknown): string {
  const refused =
    (error as { status?: number }).status === 401 && refusedCredential(error, connection)
      ? ` (the server refused the ${credentialName(connection.auth)})`
      : '';
  return `[${connection.name}] could not list ${what}${refused}: ${detailOf(error)}`;
}

/** The request carried this connection's credential (DicomWebHttpError.credentialSent). */
function refusedCredential(error: unknown, connection: NamedConnection): boolean {
  const auth = connection.auth;
  return (
    (error as { credentialSent?: boolean }).credentialSent === true &&
    (auth === 'bearer' || auth === 'basic' || auth === 'entra')
  );
}

function credentialName(auth: string | undefined): string {
  return auth === 'basic'
    ? 'password'
    : auth === 'entra'
      ? 'Microsoft Entra ID token'
      : 'bearer token';
}
