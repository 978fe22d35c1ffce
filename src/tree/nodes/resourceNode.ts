/**
 * What commands ask of a study, series or instance row, and what a child row knows of the
 * row above it. Interfaces, not the node classes: a series row knows its study through
 * `StudyRow` without importing StudyNode.ts (which imports SeriesNode.ts to build its
 * children), so the node files import each other in one direction only.
 */
import type { ServerConnection } from '../../config/serverConnection';
import type { DicomWebClient } from '../../dicomweb/client';
import type { InstancePath } from '../../dicomweb/requests';
import type { Series } from '../models/series';
import type { Study } from '../models/study';
import { DicomWebNode, type ResourceLevel, type ServerHandle } from './DicomWebNode';

/** What every study, series and instance row tells. */
interface ResourceRow extends DicomWebNode {
  readonly level: ResourceLevel;
  /** The DICOMweb resource: study, series and (for an instance) SOP instance UIDs. */
  readonly target: InstancePath;
  /** The UID a person copies: the row's own (StudyInstanceUID, SeriesInstanceUID …). */
  readonly uid: string;
  /** A title a person can read, for editors and panels. */
  readonly title: string;
  /** Short, for a question or a progress line: `series 1 OT "Shapes"`. */
  readonly summary: string;
  readonly connection: ServerConnection;
  readonly client: DicomWebClient;
  /** One line naming patient, description and counts for the delete question. */
  deleteConfirmation(): string;
  /** After the server deleted this resource: the rows above show the counts that are left. */
  deleted(): void;
}

/** An instance row: its target names all three UIDs (what frame and rendered requests need). */
export interface InstanceResource extends ResourceRow {
  readonly level: 'instance';
  readonly target: Required<InstancePath>;
}

/** A study, series or instance row; `level` tells which. */
export type ResourceNode = StudyRow | SeriesRow | InstanceResource;

/** The server row above a study: a tree row with a connection and a client. */
export type ServerRow = DicomWebNode & ServerHandle;

/** What a series row needs of its study row. */
export interface StudyRow extends ResourceRow {
  readonly level: 'study';
  readonly model: Study;
  readonly server: ServerRow;
  contentRemoved(series: number, instances: number): void;
}

/** What an instance row needs of its series row. */
export interface SeriesRow extends ResourceRow {
  readonly level: 'series';
  readonly model: Series;
  readonly study: StudyRow;
  instancesRemoved(count: number): void;
}

/**
 * A command's argument is whatever VS Code passes (a row, a URI, nothing): this tells a
 * resource row from the rest by what it says it is, not by its class.
 */
export function isResourceNode(node: unknown): node is ResourceNode {
  return node instanceof DicomWebNode && node.level !== undefined;
}
