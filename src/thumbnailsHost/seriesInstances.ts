/**
 * The instances of a series, for its thumbnails: QIDO-RS pages (PS3.18 §10.6) read until
 * the series is listed or {@link MAX_GRID_INSTANCES} are, sorted by Instance Number as the
 * tree sorts them. No `vscode`.
 */
import { getNumber, getString } from '../dicom/json';
import { Tag } from '../dicom/tags';
import type { DicomWebClient } from '../dicomweb/client';
import type { InstanceTarget } from '../preview/frameSource';

/** Instances a grid lists at most; a longer series shows its first ones and says so. */
export const MAX_GRID_INSTANCES = 10_000;
/** QIDO page size while listing (the profile's maxLimit caps it: Azure and local 200). */
const PAGE_SIZE = 500;

export interface ListedInstance {
  target: InstanceTarget;
  instanceNumber?: number;
  numberOfFrames?: number;
}

export interface SeriesListing {
  instances: ListedInstance[];
  /** More instances exist than were listed. */
  truncated: boolean;
}

export async function listSeriesInstances(
  client: DicomWebClient,
  series: { studyInstanceUid: string; seriesInstanceUid: string },
  options: { signal?: AbortSignal; max?: number } = {},
): Promise<SeriesListing> {
  const max = options.max ?? MAX_GRID_INSTANCES;
  const instances: ListedInstance[] = [];
  let offset = 0;
  for (;;) {
    const page = await client.searchPage(
      'instances',
      series,
      { includeField: ['InstanceNumber', 'NumberOfFrames'] },
      offset,
      Math.min(PAGE_SIZE, max - instances.length + 1),
      { signal: options.signal },
    );
    for (const dataset of page.items) {
      const sopInstanceUid = getString(dataset, Tag.SOPInstanceUID);
      if (!sopInstanceUid) continue;
      instances.push({
        target: { ...series, sopInstanceUid },
        instanceNumber: getNumber(dataset, Tag.InstanceNumber),
        numberOfFrames: getNumber(dataset, Tag.NumberOfFrames),
      });
    }
    offset += page.scanned ?? page.items.length;
    if (instances.length > max) {
      instances.length = max;
      return { instances: sortByNumber(instances), truncated: true };
    }
    if (!page.hasMore || page.items.length === 0)
      return { instances: sortByNumber(instances), truncated: false };
  }
}

function sortByNumber(instances: ListedInstance[]): ListedInstance[] {
  return instances.sort((a, b) => (a.instanceNumber ?? Infinity) - (b.instanceNumber ?? Infinity));
}
