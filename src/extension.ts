import type * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // Activation only builds services and registers; no network here.
}

export function deactivate(): void {}
