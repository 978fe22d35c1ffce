/**
 * Helpers for the integration suites that run inside the extension host.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

/** The repository root (this file runs from out/test/integration/). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

interface ExtensionManifest {
  publisher: string;
  name: string;
  contributes?: { commands?: { command: string }[]; views?: Record<string, { id: string }[]> };
}

/** The extension's package.json, read from the repository (not from the host's copy). */
export function readManifest(): ExtensionManifest {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as ExtensionManifest;
}

/** `publisher.name`, e.g. `dicomweb-explorer.dicomweb-explorer`. */
export const EXTENSION_ID = (() => {
  const manifest = readManifest();
  return `${manifest.publisher}.${manifest.name}`;
})();

/** The extension under test; fails the test when the host does not know it. */
export function getExtension(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  if (!extension) {
    throw new Error(
      `extension ${EXTENSION_ID} is not loaded in this extension host (was --extensionDevelopmentPath given?)`,
    );
  }
  return extension;
}

/** Activates the extension (a no-op when active) and returns its exports. */
export async function activateExtension(): Promise<unknown> {
  const extension = getExtension();
  return extension.isActive ? extension.exports : extension.activate();
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Says what was awaited, for the timeout error. */
  description?: string;
}

/**
 * Polls `condition` until it returns a truthy value (or a promise of one) and returns that
 * value; throws after `timeoutMs` (default 10 s) naming what it waited for.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 100, description = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Runs a command, first checking that it is registered so a typo fails clearly. */
export async function executeCommand<T = unknown>(command: string, ...args: unknown[]): Promise<T> {
  const known = await vscode.commands.getCommands(true);
  if (!known.includes(command)) throw new Error(`command ${command} is not registered`);
  return vscode.commands.executeCommand<T>(command, ...args);
}

/** Orthanc's DICOMweb base URL as `npm test` passes it, or undefined when not started. */
export function testServerUrl(): string | undefined {
  return process.env.DICOMWEB_TEST_URL || undefined;
}
