import * as vscode from 'vscode';
import type { Services } from '../services';
import { describeFilter, formatFilterInput, parseFilter, type StudyFilter } from '../tree/filter';
import type { ServerNode } from '../tree/nodes/ServerNode';
import { pickServer } from './pickServer';
import { UserCancelled } from './registerCommand';

/**
 * `dicomweb.server.setFilter`: QIDO matching for the connection's studies (PS3.18 §8.3.4):
 * `patient=Doe^J*; date=20200101-20201231; modality=CT; accession=…; id=…` or any
 * attribute keyword/tag. A bare text is a patient name.
 */
export async function setFilter(
  services: Services,
  node?: ServerNode,
  filter?: StudyFilter,
): Promise<StudyFilter | undefined> {
  const server = node ?? (await pickServer(services, 'Filter studies on which server?'));
  if (!filter) {
    const text = await vscode.window.showInputBox({
      title: `Filter studies on ${server.connection.name}`,
      prompt:
        "patient=Doe^J*; id=…; date=20200101-20201231; modality=CT; accession=…; description=…; any keyword or tag=value (the server's ready extended query tags too). Empty clears.",
      value: formatFilterInput(server.filter),
      placeHolder: 'Doe^J*   or   date=20240101-; modality=MR',
      ignoreFocusOut: true,
    });
    if (text === undefined) throw new UserCancelled();
    filter = parseFilter(text);
  }
  await server.setFilter(filter);
  services.log.info(`[${server.connection.name}] filter: ${describeFilter(filter) || '(none)'}`);
  await services.treeView.reveal(server, { expand: true }).then(undefined, () => undefined);
  return filter;
}

/** `dicomweb.server.clearFilter`; from the palette, on the filtered server (or the one picked). */
export async function clearFilter(services: Services, node?: ServerNode): Promise<void> {
  const server =
    node ??
    (await pickServer(services, 'Clear the filter of which server?', {
      accept: (candidate) => candidate.filter !== undefined,
      none: 'No DICOMweb server has a filter.',
    }));
  await server.setFilter(undefined);
}
