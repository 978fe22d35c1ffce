import type { Services } from '../services';
import type { SeriesNode } from '../tree/nodes/SeriesNode';

/** `dicomweb.series.showThumbnails`: a grid of the series' instances (one panel per series). */
export async function showThumbnails(services: Services, node: SeriesNode): Promise<void> {
  services.thumbnails.showSeries(
    node.client,
    {
      studyInstanceUid: node.study.model.studyInstanceUid,
      seriesInstanceUid: node.seriesInstanceUid,
    },
    node.title,
  );
}
