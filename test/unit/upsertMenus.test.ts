/**
 * Where "Upload and Replace" is offered, on data: the key that hides the Explorer's entry
 * while no connection upserts (computed from the connections' kinds and URLs, as the
 * extension sets it), and the manifest's `when` clauses that read it and the rows' flags.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  connectionUpserts,
  NO_UPSERT_CONTEXT,
  noConnectionUpserts,
  type UpsertCandidate,
} from '../../src/dicomweb/profiles/upsert';
import type { ServerKind } from '../../src/dicomweb/profiles/serverProfiles';

const ROOT = join(__dirname, '..', '..', '..');

interface MenuEntry {
  command: string;
  when?: string;
  group?: string;
}
interface Manifest {
  contributes: {
    commands: Array<{ command: string; title: string }>;
    menus: Record<string, MenuEntry[]>;
  };
}
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

function entry(menu: string, command: string): MenuEntry {
  const found = manifest.contributes.menus[menu]!.filter((item) => item.command === command);
  assert.equal(found.length, 1, `${command} is in ${menu} once`);
  return found[0]!;
}

const azure = 'https://ws-svc.dicom.azurehealthcareapis.com';
const upserting: UpsertCandidate[] = [
  { url: `${azure}/v2` }, // the kind from the host
  { kind: 'azure', url: `${azure}/v2/partitions/p1` },
  { kind: 'local', url: 'http://127.0.0.1:4100' },
  { kind: 'local', url: 'http://127.0.0.1:4100/v2' },
];
const notUpserting: UpsertCandidate[] = [
  { url: `${azure}/v1` },
  { url: azure }, // Azure without a version is not v2
  { kind: 'azure', url: `${azure}/v1.0-prerelease` },
  { kind: 'local', url: 'http://127.0.0.1:4100/v1' },
  { url: 'http://localhost:8042/dicom-web' }, // no kind, no Azure host: generic
  ...(['orthanc', 'google', 'dcm4chee', 'generic'] as ServerKind[]).map((kind) => ({
    kind,
    url: 'https://host/v2',
  })),
];

describe('which connections upsert, from their settings alone', () => {
  it('upserts for Azure from v2 (kind set or told by the host), partitions and the local server', () => {
    for (const connection of upserting)
      assert.equal(connectionUpserts(connection), true, JSON.stringify(connection));
  });

  it('does not for Azure v1 or unversioned, the local server under /v1, or another kind', () => {
    for (const connection of notUpserting)
      assert.equal(connectionUpserts(connection), false, JSON.stringify(connection));
  });
});

describe(`the ${NO_UPSERT_CONTEXT} context key`, () => {
  it('is true without connections and while none upserts', () => {
    assert.equal(noConnectionUpserts([]), true);
    assert.equal(noConnectionUpserts(notUpserting), true);
    for (const connection of notUpserting) assert.equal(noConnectionUpserts([connection]), true);
  });

  it('is false as soon as one connection upserts, wherever it is in the list', () => {
    for (const connection of upserting) {
      assert.equal(noConnectionUpserts([connection]), false, JSON.stringify(connection));
      assert.equal(noConnectionUpserts([...notUpserting, connection]), false);
      assert.equal(noConnectionUpserts([connection, ...notUpserting]), false);
    }
  });

  it("hides the Explorer's Upload and Replace while set, on the files plain Upload is on", () => {
    const upload = entry('explorer/context', 'dicomweb.upload.fromExplorer').when!;
    const replace = entry('explorer/context', 'dicomweb.upload.replace.fromExplorer').when!;
    assert.equal(replace, `!${NO_UPSERT_CONTEXT} && (${upload})`);
    // The palette never offers it (it needs the Explorer's selection).
    assert.equal(entry('commandPalette', 'dicomweb.upload.replace.fromExplorer').when, 'false');
  });
});

describe('Upload and Replace into This Study on study rows', () => {
  const command = 'dicomweb.study.uploadReplace';
  const when = entry('view/item/context', command).when!;
  const row = new RegExp(/viewItem =~ \/(.+)\/$/.exec(when)![1]!);

  it('is a titled command, hidden from the palette (it needs a row)', () => {
    const contributed = manifest.contributes.commands.find((c) => c.command === command);
    assert.equal(contributed?.title, 'Upload and Replace into This Study…');
    assert.equal(entry('commandPalette', command).when, 'false');
    assert.match(when, /^view == dicomweb\.servers && /);
  });

  it('matches study rows flagged upsert, with or without other flags, and nothing else', () => {
    for (const value of ['dicomweb:study upsert', 'dicomweb:study upsert found'])
      assert.match(value, row);
    for (const value of [
      'dicomweb:study',
      'dicomweb:study found',
      'dicomweb:server upsert',
      'dicomweb:series upsert',
      'dicomweb:studyX upsert',
    ])
      assert.doesNotMatch(value, row);
  });
});

describe('Upload and Replace on server and partition rows', () => {
  const rows = manifest.contributes.menus['view/item/context']!.filter(
    (item) => item.command === 'dicomweb.node.uploadReplace',
  ).map((item) => new RegExp(/viewItem =~ \/(.+)\/$/.exec(item.when!)![1]!));
  const offered = (value: string) => rows.some((row) => row.test(value));

  it('is offered on server and partition rows flagged upsert only', () => {
    for (const value of [
      'dicomweb:server upsert',
      'dicomweb:server partitioned extendedQueryTags upsert',
      'dicomweb:partition upsert',
      'dicomweb:partition filtered upsert',
    ])
      assert.ok(offered(value), value);
    for (const value of [
      'dicomweb:server',
      'dicomweb:server partitioned',
      'dicomweb:partition',
      'dicomweb:partition filtered',
      'dicomweb:study upsert',
    ])
      assert.ok(!offered(value), value);
  });
});
