/**
 * What a server row and a partition row share: a page of studies (QIDO-RS, PS3.18 §10.6.1,
 * with the row's filter) and the rows "Find by UID…" places below them. Each lists through its
 * own client, so a partition row's studies come from `/partitions/{name}/studies`.
 */
import type { DicomWebClient } from '../../dicomweb/client';
import type { Located } from '../../dicomweb/locate';
import { filterToMatch, type StudyFilter } from '../filter';
import { STUDY_FIELDS } from '../models/study';
import type { PagedNode, TreeContext } from './DicomWebNode';
import { InstanceNode } from './InstanceNode';
import type { ResourceNode, ServerRow } from './resourceNode';
import { SeriesNode } from './SeriesNode';
import { StudyNode } from './StudyNode';

/** One page of a row's studies, as PagedNode.fetchPage returns it. */
export async function studiesPage(
  context: TreeContext,
  row: ServerRow,
  client: DicomWebClient,
  filter: StudyFilter | undefined,
  page: { offset: number; limit: number },
) {
  const found = await client.searchPage(
    'studies',
    {},
    { match: filterToMatch(filter), includeField: STUDY_FIELDS },
    page.offset,
    page.limit,
  );
  return {
    items: found.items.map((dataset) => new StudyNode(context, row, dataset)),
    hasMore: found.hasMore,
    warnings: found.warnings,
    received: found.scanned ?? found.items.length,
  };
}

/**
 * The study, series and instance rows down to what was located, each the listed row when a
 * loaded page has it, else pinned above its parent's pages with `note` (PagedNode.adopt).
 * Returns the deepest row, for TreeView.reveal.
 */
export async function placeFound(
  context: TreeContext,
  row: ServerRow & PagedNode<StudyNode>,
  found: Located,
  note: string,
): Promise<ResourceNode> {
  const study = await row.adopt(new StudyNode(context, row, found.study), note);
  if (!found.series) return study;
  const series = await study.adopt(new SeriesNode(context, study, found.series), note);
  if (!found.instance) return series;
  return series.adopt(new InstanceNode(series, found.instance), note);
}
