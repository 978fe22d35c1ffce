/**
 * Every command a person can reach from the Command Palette, run as the palette runs it:
 * with no argument. Commands made for a tree row either ask which server or are hidden
 * from the palette; none may fail with a programming error (issue 11: "Remove Server…" and
 * "Clear Filter" used to fail with "Cannot read properties of undefined"). Inputs and
 * pickers a command opens are dismissed, as a person pressing Escape would; a dismissed
 * prompt is a cancellation, which the error wrapper keeps silent.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, readManifest } from './helpers';

interface Api {
  services: {
    prompts: {
      confirm(message: string, detail: string, action: string): Promise<boolean>;
      askSecret(): Promise<string | undefined>;
    };
    log: vscode.LogOutputChannel;
    localServer: { running?: unknown; stop(): Promise<boolean> };
  };
}

interface Manifest {
  contributes: {
    commands: Array<{ command: string; title: string }>;
    menus: { commandPalette?: Array<{ command: string; when?: string }> };
  };
}

/** Context keys the palette's `when` clauses use, and the commands they gate (package.json). */
const LOCAL_SERVER_KEYS = ['dicomweb.localServer.running', 'dicomweb.localServer.requiresToken'];

describe('Every command from the Command Palette, with no argument', function () {
  this.timeout(180_000);
  let api: Api;
  let savedPrompts: Api['services']['prompts'];

  before(async () => {
    api = (await activateExtension()) as Api;
    savedPrompts = api.services.prompts;
    // Modal confirmations answer "no": nothing is removed or deleted by this test.
    api.services.prompts = { confirm: async () => false, askSecret: async () => undefined };
  });

  after(async () => {
    api.services.prompts = savedPrompts;
    if (api.services.localServer.running) await api.services.localServer.stop();
  });

  it('the palette offers no command that needs a tree row, and the rest run without a programming error', async () => {
    const manifest = readManifest() as unknown as Manifest;
    const hidden = new Set(
      (manifest.contributes.menus.commandPalette ?? [])
        .filter((entry) => entry.when === 'false' || entry.when === 'never')
        .map((entry) => entry.command),
    );
    const gated = new Map(
      (manifest.contributes.menus.commandPalette ?? [])
        .filter((entry) => entry.when && !hidden.has(entry.command))
        .map((entry) => [entry.command, entry.when!]),
    );
    // Only our own context keys may gate a palette entry (a typo would hide a command for good).
    for (const [command, when] of gated) {
      if (command.startsWith('dicomweb.file.')) {
        assert.equal(when, 'resourceScheme == file', `${command} is offered for files on disk`);
        continue;
      }
      // VS Code's own key for the active notebook's type; the type named is ours (package.json).
      if (command.startsWith('dicomweb.notebook.') && when.startsWith('notebookType')) {
        assert.equal(when, 'notebookType == dicomweb-notebook', `${command}: in our notebooks`);
        continue;
      }
      const keys = when
        .replace(/[!()&|]/g, ' ')
        .split(/\s+/)
        .filter(Boolean);
      assert.ok(
        keys.every((key) => LOCAL_SERVER_KEYS.includes(key)),
        `${command}: unexpected when clause "${when}"`,
      );
    }
    const offered = manifest.contributes.commands
      .map((c) => c.command)
      .filter((id) => !hidden.has(id));
    assert.ok(offered.length >= 10, `only ${offered.length} commands in the palette`);

    const failures: string[] = [];
    const log = api.services.log;
    const error = log.error.bind(log);
    log.error = ((message: string | Error, ...rest: unknown[]) => {
      // The error wrapper's line for a command that failed (registerCommand.ts); a tree row
      // that failed to load while the local server stopped under it is not a command failure.
      const line = String(message).split('\n')[0]!;
      if (/^dicomweb\.[\w.]+ failed: /.test(line)) failures.push(line);
      error(message as string, ...(rest as []));
    }) as typeof log.error;
    // Escape on whatever input, picker or dialog a command opens.
    const dismiss = setInterval(
      () => void vscode.commands.executeCommand('workbench.action.closeQuickOpen'),
      250,
    );
    try {
      for (const id of offered) {
        const before = failures.length;
        const run = Promise.resolve(vscode.commands.executeCommand(id)).then(
          () => 'done',
          (thrown: unknown) => `threw ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        );
        // A command that waits on a notification (e.g. "Start?") is left waiting: it did not fail.
        const outcome = await Promise.race([
          run,
          new Promise<string>((resolve) => setTimeout(() => resolve('waiting'), 5_000)),
        ]);
        if (outcome.startsWith('threw')) failures.push(`${id} ${outcome}`);
        const logged = failures.slice(before);
        console.log(`      ${id}: ${outcome}${logged.length ? ` — ${logged.join('; ')}` : ''}`);
      }
    } finally {
      clearInterval(dismiss);
      log.error = error;
    }
    // Expected refusals would be one clear sentence; a programming error names a property or a
    // type.
    const programming = failures.filter((line) =>
      /Cannot read properties|is not a function|undefined|TypeError|ReferenceError/.test(line),
    );
    assert.deepEqual(
      programming,
      [],
      `commands failed from the palette:\n${programming.join('\n')}`,
    );
    assert.deepEqual(
      failures,
      [],
      `commands logged a failure from the palette:\n${failures.join('\n')}`,
    );
  });

  it('offers Start when the local server is stopped, and Stop, Restart and Copy URL only while it runs', () => {
    const manifest = readManifest() as unknown as Manifest;
    const when = new Map(
      (manifest.contributes.menus.commandPalette ?? []).map((entry) => [entry.command, entry.when]),
    );
    for (const id of [
      'dicomweb.localServer.stop',
      'dicomweb.localServer.restart',
      'dicomweb.localServer.copyUrl',
    ]) {
      assert.equal(when.get(id), 'dicomweb.localServer.running', id);
    }
    assert.equal(when.get('dicomweb.localServer.start'), '!dicomweb.localServer.running');
    assert.equal(when.get('dicomweb.localServer.copyToken'), 'dicomweb.localServer.requiresToken');
  });
});
