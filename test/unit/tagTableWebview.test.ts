/**
 * The tag table's page side without a DOM: the messages it sends are validated like every
 * other webview message (webview/protocol.ts), and its state (webview/editor/tagTree.ts)
 * turns rows, expanded ids, children and filter answers into the rows drawn, in order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkFromWebview, MAX_FILTER_QUERY_LENGTH, type TagRow } from '../../webview/protocol';
import { TagTree } from '../../webview/editor/tagTree';

function row(id: string, childCount = 0, depth = id.split('.').length - 1): TagRow {
  return {
    id,
    depth,
    kind: childCount ? 'sequence' : 'element',
    tag: `(0008,${id})`,
    name: `Row${id}`,
    vr: 'LO',
    vm: '1',
    length: '2',
    value: id,
    childCount,
  };
}

describe('tag table messages from the webview', () => {
  it('accepts the four table messages with sound fields', () => {
    for (const message of [
      { type: 'requestTagChildren', requestId: 1, id: '4.0.2' },
      { type: 'filterTags', requestId: 2, query: 'PatientName' },
      { type: 'copyTag', id: '12', what: 'keywordPath' },
      { type: 'tagTableShown', rows: 265 },
    ]) {
      assert.equal(checkFromWebview(message).ok, true, JSON.stringify(message));
    }
  });

  it('refuses ids that are not indexes, unknown copy kinds and over-long queries', () => {
    for (const [message, reason] of [
      [{ type: 'requestTagChildren', requestId: 1, id: '../4' }, /id is not a row id/],
      [{ type: 'requestTagChildren', requestId: 1, id: '1.'.repeat(600) + '1' }, /row id/],
      [{ type: 'copyTag', id: '1', what: 'everything' }, /what is not one of/],
      [
        { type: 'filterTags', requestId: 1, query: 'x'.repeat(MAX_FILTER_QUERY_LENGTH + 1) },
        /query is not a string of at most 256/,
      ],
      [{ type: 'tagTableShown', rows: -1 }, /rows is not an integer/],
    ] as const) {
      const checked = checkFromWebview(message);
      assert.equal(checked.ok, false);
      assert.match(checked.ok ? '' : checked.reason, reason);
    }
  });
});

describe('TagTree', () => {
  const ids = (tree: TagTree): string[] => tree.visible.map((r) => r.id);

  it('shows the top level; an expanded row asks for its children once, then shows them', () => {
    const tree = new TagTree();
    tree.setRoots([row('0'), row('1', 2), row('2')]);
    assert.deepEqual(ids(tree), ['0', '1', '2']);
    assert.equal(tree.toggle('1'), true, 'children must be asked for');
    assert.deepEqual(ids(tree), ['0', '1', '2'], 'nothing to show until they arrive');
    tree.setChildren('1', [row('1.0', 1), row('1.1')]);
    assert.deepEqual(ids(tree), ['0', '1', '1.0', '1.1', '2']);
    tree.toggle('1.0');
    tree.setChildren('1.0', [row('1.0.0')]);
    assert.deepEqual(ids(tree), ['0', '1', '1.0', '1.0.0', '1.1', '2']);
    tree.toggle('1');
    assert.deepEqual(ids(tree), ['0', '1', '2'], 'collapsing hides every level below');
    assert.equal(tree.toggle('1'), false, 'the children are kept: no second request');
    assert.deepEqual(ids(tree), ['0', '1', '1.0', '1.0.0', '1.1', '2'], 'and their state');
  });

  it('a filter answer replaces the tree until cleared; replaced rows keep their place', () => {
    const tree = new TagTree();
    tree.setRoots([row('0'), row('1', 1)]);
    tree.setFiltered([
      { ...row('1', 1), match: false },
      { ...row('1.0'), match: true },
    ]);
    assert.equal(tree.isFiltered, true);
    assert.equal(tree.isExpanded('1'), false, 'no twisty state in a filtered list');
    assert.deepEqual(ids(tree), ['1', '1.0']);
    tree.replaceRows([{ ...row('1', 1), value: 'rewritten' }]);
    assert.equal(tree.visible[0]!.value, 'rewritten');
    assert.equal(tree.visible[0]!.match, false, 'the filter flag stays');
    tree.setFiltered(undefined);
    assert.deepEqual(ids(tree), ['0', '1']);
    assert.equal(tree.visible[1]!.value, 'rewritten');
  });

  it('a sequence of 10,000 items, four of them expanded: 10,009 rows in order', () => {
    const tree = new TagTree();
    tree.setRoots([row('0', 10_000)]);
    tree.toggle('0');
    tree.setChildren(
      '0',
      Array.from({ length: 10_000 }, (_, i) => row(`0.${i}`, 2)),
    );
    for (let i = 0; i < 10_000; i++) {
      // Children arrive before the expand here: one flattening per toggle.
      tree.setChildren(`0.${i}`, [row(`0.${i}.0`), row(`0.${i}.1`)]);
    }
    for (let i = 0; i < 10_000; i += 2500) tree.toggle(`0.${i}`);
    assert.equal(tree.visible.length, 1 + 10_000 + 4 * 2);
    assert.deepEqual(ids(tree).slice(0, 5), ['0', '0.0', '0.0.0', '0.0.1', '0.1']);
  });
});
