/**
 * Issue 10, finding 4b: "no setting has a `scope`". Every setting of package.json now has
 * the scope its effect needs. VS Code applies `machine` and `application` scoped settings
 * from user (or remote machine) settings only and ignores them in a workspace's
 * .vscode/settings.json (VS Code API, contribution points, `configuration` → scope), so a
 * repository cannot start the local server, choose its folder, port or token rule, or
 * raise the client's memory limits. `dicomweb.servers` stays window-scoped on purpose: its
 * workspace entries are gated in code (src/config/connectionPolicy.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_DEADLINE_MS,
  DEFAULT_MAX_BINARY_BODY_BYTES,
  DEFAULT_MAX_JSON_BODY_BYTES,
} from '../../src/dicomweb/transport/limits';

interface Setting {
  scope?: string;
  default?: unknown;
}

const manifest = JSON.parse(
  readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'),
) as {
  contributes: { configuration: { properties: Record<string, Setting> } };
};
const settings = manifest.contributes.configuration.properties;

describe('settings scopes (issue 10, finding 4b)', () => {
  it('every setting states its scope, one VS Code knows', () => {
    const known = [
      'application',
      'machine',
      'machine-overridable',
      'window',
      'resource',
      'language-overridable',
    ];
    for (const [key, setting] of Object.entries(settings)) {
      assert.ok(
        setting.scope && known.includes(setting.scope),
        `${key} has scope ${setting.scope}`,
      );
    }
  });

  it('what starts a process, picks a folder or port, weakens a check or raises a limit is machine- or application-scoped', () => {
    const mustNotComeFromWorkspace = Object.keys(settings).filter(
      (key) => key.startsWith('dicomweb.localServer.') || key.startsWith('dicomweb.limits.'),
    );
    assert.ok(mustNotComeFromWorkspace.length >= 7, mustNotComeFromWorkspace.join(', '));
    for (const key of mustNotComeFromWorkspace) {
      assert.ok(
        ['machine', 'application'].includes(settings[key].scope ?? ''),
        `${key}: ${settings[key].scope}`,
      );
    }
  });

  it("the limits settings default to the client's own constants", () => {
    const mib = 1024 * 1024;
    assert.equal(
      settings['dicomweb.limits.maxJsonResponseMegabytes'].default,
      DEFAULT_MAX_JSON_BODY_BYTES / mib,
    );
    assert.equal(
      settings['dicomweb.limits.maxBinaryResponseMegabytes'].default,
      DEFAULT_MAX_BINARY_BODY_BYTES / mib,
    );
    assert.equal(
      settings['dicomweb.limits.operationDeadlineSeconds'].default,
      DEFAULT_DEADLINE_MS / 1000,
    );
  });
});
