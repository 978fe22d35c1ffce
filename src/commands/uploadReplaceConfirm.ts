/**
 * The questions "Upload and Replace" asks before anything is sent: whether the destination
 * replaces instances at all (the profile: Azure DICOM service API v2, the local server), and
 * a modal saying that stored instances with the same SOP Instance UID will be replaced.
 * Apart from upload.ts so that both upload.ts and uploadReplace.ts can use it.
 */
import * as vscode from 'vscode';
import { supportsUpsert } from '../dicomweb/profiles/upsert';
import type { Services } from '../services';
import type { UploadDestination } from '../tree/nodes/DicomWebNode';
import { UserCancelled } from './registerCommand';

/** Said when a server cannot replace: which servers can, and why this one cannot. */
export const NO_UPSERT =
  'Upload and Replace needs a server that replaces instances on PUT /studies (upsert): the Azure DICOM service from API v2 on, or the local DICOMweb server.';

/**
 * Asks to go on (modal, through the prompts seam integration tests answer); throws
 * UserCancelled when the person does not choose "Upload and Replace", and an Error when the
 * destination's profile does not do upsert (its version under /v1, another kind of server).
 */
export async function confirmReplace(
  services: Pick<Services, 'prompts'>,
  destination: UploadDestination,
  files: number,
): Promise<void> {
  const client = destination.server.client;
  if (!supportsUpsert(client.serverProfile, client.baseUrl))
    throw new Error(`${destination.name} (${client.serverProfile.label}): ${NO_UPSERT}`);
  const where = destination.studyInstanceUid ? `study ${destination.studyInstanceUid} on ` : '';
  const confirmed = await services.prompts.confirm(
    `Upload and replace ${files} file${files === 1 ? '' : 's'} on ${where}${destination.name}?`,
    'Instances already stored with the same SOP Instance UID will be replaced by these files ' +
      '(PUT /studies, the Azure DICOM service upsert). The replaced versions cannot be restored. ' +
      'The report lists each file as replaced, new or failed.',
    'Upload and Replace',
  );
  if (!confirmed) throw new UserCancelled();
}

/** No configured server does upsert: one sentence, nothing sent. */
export function noUpsertServer(): never {
  void vscode.window.showWarningMessage(NO_UPSERT);
  throw new UserCancelled();
}
