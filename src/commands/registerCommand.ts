import * as vscode from 'vscode';
import { DicomWebError, isCancellation, redactUrlsIn } from '../dicomweb/transport/errors';
import type { Services } from '../services';

/** Thrown by a command that the person cancelled: silent. */
export class UserCancelled extends Error {
  override readonly name = 'UserCancelled';
  constructor() {
    super('cancelled');
  }
}

/** A command's handler: VS Code passes its arguments untyped (see commands/index.ts). */
export type CommandHandler = (...args: unknown[]) => unknown;

/**
 * Registers a command behind the one error wrapper: a cancellation is silent, an expected
 * failure becomes one clear sentence with "Show Log", details go to the log, never a stack
 * in a toast. The handler's result is returned (tests and other commands use it).
 */
export function registerCommand(
  services: Services,
  id: string,
  handler: CommandHandler,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await handler(...args);
    } catch (error) {
      if (
        error instanceof UserCancelled ||
        isCancellation(error) ||
        error instanceof vscode.CancellationError
      )
        return undefined;
      // Whatever threw, a URL's user info never reaches the log or the toast (issue 10, 4c).
      services.log.error(
        redactUrlsIn(
          `${id} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        ),
      );
      // Not awaited: the notification stays until a person dismisses it, and a caller that
      // runs the command (another command, a notebook's Show, a test) must get its answer now.
      void vscode.window.showErrorMessage(sentenceOf(error), 'Show Log').then((choice) => {
        if (choice === 'Show Log') services.log.show(true);
      });
      return undefined;
    }
  });
}

export function sentenceOf(error: unknown): string {
  return redactUrlsIn(rawSentenceOf(error));
}

function rawSentenceOf(error: unknown): string {
  if (error instanceof DicomWebError) {
    if (error.status === 401 || error.status === 403)
      return `The server refused the credentials (${error.status}). ${error.serverMessage ?? ''}`.trim();
    if (error.status === 404)
      return `Not found on the server${error.serverMessage ? `: ${error.serverMessage}` : '.'}`;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
