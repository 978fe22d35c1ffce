/**
 * The seed tutorial ("Using DICOMweb Standard APIs with cURL", Azure DICOM service) as a
 * notebook: its 19 requests in its order (store the three samples, retrieve seven ways,
 * search six ways, delete at three levels), as cURL cells in the tutorial's own form with
 * `\` continuations, its slips repaired (the missing `/`, the open quotes, the truncated
 * study UID), and without its `Authorization` lines: the kernel's connection signs them.
 * The sample files sit next to the notebook (`{path-to-dicoms}` is the notebook's folder).
 */
import { serializeNotebook, type NotebookCellData } from './format';

const STUDY = '1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420';
const SHAPES = '1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652';
const RED = '1.2.826.0.1.3680043.8.498.47359123102728459884412887463296905395';

/** The sample files the notebook's STOW cells name, in media/samples/. */
export const TUTORIAL_SAMPLES = ['red-triangle.dcm', 'blue-circle.dcm', 'green-square.dcm'];
export const TUTORIAL_FILE_NAME = 'azure-dicomweb-tutorial.dicomweb.md';

const BASE = '{Service URL}/v{version}';
const JSON_ACCEPT = 'Accept: application/dicom+json';
const STOW_TYPE = 'Content-Type: multipart/related; type=\\"application/dicom\\"';
const DICOM_PARTS = 'Accept: multipart/related; type=\\"application/dicom\\"; transfer-syntax=*';
const INSTANCE = `studies/${STUDY}/series/${SHAPES}/instances/${RED}`;

interface Step {
  heading: string;
  text?: string;
  method: string;
  path: string;
  headers: string[];
  extra?: string[];
}

const STEPS: Step[] = [
  {
    heading: '## Store instances (STOW-RS)\n\n### Store instances using multipart/related',
    method: 'POST',
    path: 'studies',
    headers: [JSON_ACCEPT, STOW_TYPE],
    extra: ['--form "file1=@{path-to-dicoms}/red-triangle.dcm;type=application/dicom"'],
  },
  {
    heading: '### Store instances for a specific study',
    method: 'POST',
    path: `studies/${STUDY}`,
    headers: [JSON_ACCEPT, STOW_TYPE],
    extra: ['--form "file1=@{path-to-dicoms}/blue-circle.dcm;type=application/dicom"'],
  },
  {
    heading: '### Store a single instance',
    text: 'Azure takes one file as the whole body (`Content-Type: application/dicom`); on a server that does not, the notebook sends it as standard multipart and says so.',
    method: 'POST',
    path: 'studies',
    headers: [JSON_ACCEPT, 'Content-Type: application/dicom'],
    extra: ['--data-binary "@{path-to-dicoms}/green-square.dcm"'],
  },
  {
    heading: '## Retrieve (WADO-RS)\n\n### Retrieve all instances within a study',
    method: 'GET',
    path: `studies/${STUDY}`,
    headers: [DICOM_PARTS],
  },
  {
    heading: '### Retrieve the metadata of all instances in a study',
    method: 'GET',
    path: `studies/${STUDY}/metadata`,
    headers: [JSON_ACCEPT],
  },
  {
    heading: '### Retrieve all instances within a series',
    method: 'GET',
    path: `studies/${STUDY}/series/${SHAPES}`,
    headers: [DICOM_PARTS],
  },
  {
    heading: '### Retrieve the metadata of all instances within a series',
    method: 'GET',
    path: `studies/${STUDY}/series/${SHAPES}/metadata`,
    headers: [JSON_ACCEPT],
  },
  {
    heading: '### Retrieve a single instance within a series of a study',
    method: 'GET',
    path: INSTANCE,
    headers: ['Accept: application/dicom; transfer-syntax=*'],
  },
  {
    heading: '### Retrieve the metadata of a single instance',
    method: 'GET',
    path: `${INSTANCE}/metadata`,
    headers: [JSON_ACCEPT],
  },
  {
    heading: '### Retrieve one or more frames from a single instance',
    method: 'GET',
    path: `${INSTANCE}/frames/1`,
    headers: [
      'Accept: multipart/related; type=\\"application/octet-stream\\"; transfer-syntax=1.2.840.10008.1.2.1',
    ],
  },
  {
    heading: '## Search (QIDO-RS)\n\n### Search for studies',
    method: 'GET',
    path: `studies?StudyInstanceUID=${STUDY}`,
    headers: [JSON_ACCEPT],
  },
  {
    heading: '### Search for series',
    method: 'GET',
    path: `series?SeriesInstanceUID=${SHAPES}`,
    headers: [JSON_ACCEPT],
  },
  {
    heading: '### Search for series within a study',
    method: 'GET',
    path: `studies/${STUDY}/series?SeriesInstanceUID=${SHAPES}`,
    headers: [JSON_ACCEPT],
  },
  {
    heading: '### Search for instances',
    method: 'GET',
    path: `instances?SOPInstanceUID=${RED}`,
    headers: [JSON_ACCEPT],
  },
  {
    heading: '### Search for instances within a study',
    method: 'GET',
    path: `studies/${STUDY}/instances?SOPInstanceUID=${RED}`,
    headers: [JSON_ACCEPT],
  },
  {
    heading: '### Search for instances within a study and series',
    method: 'GET',
    path: `studies/${STUDY}/series/${SHAPES}/instances?SOPInstanceUID=${RED}`,
    headers: [JSON_ACCEPT],
  },
  {
    heading:
      "## Delete\n\nDelete is not part of the DICOM standard; each server kind has its own way, and the notebook uses the connection's (Orthanc: its REST API).\n\n### Delete a specific instance within a study and series",
    method: 'DELETE',
    path: INSTANCE,
    headers: [],
  },
  {
    heading: '### Delete a specific series within a study',
    method: 'DELETE',
    path: `studies/${STUDY}/series/${SHAPES}`,
    headers: [],
  },
  {
    heading: '### Delete a specific study',
    method: 'DELETE',
    path: `studies/${STUDY}`,
    headers: [],
  },
];

const INTRO = `# Using DICOMweb standard APIs with cURL

The requests of the Azure DICOM service tutorial, in its order, runnable: pick a DICOMweb
connection as the kernel (top right), then run the cells one by one or all at once.
\`{Service URL}/v{version}\` is the connection's URL and \`{path-to-dicoms}\` this notebook's
folder, where the three sample instances were written. No cell holds a credential: the
connection signs each request.`;

/** The tutorial notebook's file text. */
export function tutorialNotebook(): string {
  const cells: NotebookCellData[] = [{ kind: 'markdown', text: INTRO }];
  for (const step of STEPS) {
    cells.push({
      kind: 'markdown',
      text: step.text ? `${step.heading}\n\n${step.text}` : step.heading,
    });
    const lines = [
      `curl --request ${step.method} "${BASE}/${step.path}"`,
      ...step.headers.map((header) => `--header "${header}"`),
      ...(step.extra ?? []),
    ];
    cells.push({ kind: 'request', text: lines.join(' \\\n  '), language: 'curl' });
  }
  return serializeNotebook(cells);
}
