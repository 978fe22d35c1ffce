/**
 * Long-running operations as the Azure DICOM service answers them at `GET /operations/{id}`
 * ("Get operation status", its OperationsController): 202 with a Location header while the
 * operation is notStarted or running, 200 once it ended; the body is
 * `{operationId, type, createdTime, lastUpdatedTime, status, percentComplete, resources}`.
 * The only operation the local server runs is the reindex of added extended query tags.
 *
 * Plain Node: no `vscode` import.
 */
import { randomUUID } from 'node:crypto';

export type OperationStatus = 'notStarted' | 'running' | 'succeeded' | 'failed' | 'canceled';
export type OperationType = 'reindex';

/**
 * How far a reindex got, durably (Azure's ReindexCheckpoint: the watermark range completed,
 * kept by its durable orchestration). Every instance whose order key is at or below
 * `watermark` is indexed, in the index persisted before this checkpoint was.
 */
export interface ReindexCheckpoint {
  /** Order key of the last instance of the indexed prefix (extendedQueryTagService.ts). */
  watermark: string;
  /** Errors per tag path counted over the instances at or below the watermark. */
  errorCounts: Record<string, number>;
  /** The percent complete reached at this checkpoint. */
  percent: number;
}

/** One operation; `resources` are the tag paths it works on. */
export interface Operation {
  id: string;
  type: OperationType;
  createdTime: string;
  lastUpdatedTime: string;
  status: OperationStatus;
  percentComplete: number;
  resources: string[];
  /** A reindex's durable progress; persisted, never answered. */
  checkpoint?: ReindexCheckpoint;
}

/** Operations kept (the newest; older ended ones are forgotten and then answer 404). */
export const MAX_OPERATIONS_KEPT = 100;

export function isOperationId(id: string): boolean {
  // Azure's ids are GUIDs, written without dashes ("N" format) in hrefs; both forms are read.
  return /^[0-9a-f]{32}$/i.test(id.replace(/-/g, '')) && id.length <= 36;
}

export function isEnded(status: OperationStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'canceled';
}

/** The operations of one server, newest last. */
export class OperationRegistry {
  private readonly byId = new Map<string, Operation>();

  constructor(private readonly maxKept = MAX_OPERATIONS_KEPT) {}

  create(type: OperationType, resources: string[]): Operation {
    const now = new Date().toISOString();
    const operation: Operation = {
      id: randomUUID().replace(/-/g, ''),
      type,
      createdTime: now,
      lastUpdatedTime: now,
      status: 'notStarted',
      percentComplete: 0,
      resources,
    };
    this.byId.set(operation.id, operation);
    this.trim();
    return operation;
  }

  get(id: string): Operation | undefined {
    return this.byId.get(id.replace(/-/g, '').toLowerCase());
  }

  update(
    operation: Operation,
    change: Partial<Pick<Operation, 'status' | 'percentComplete' | 'checkpoint'>>,
  ): void {
    Object.assign(operation, change);
    operation.lastUpdatedTime = new Date().toISOString();
  }

  all(): Operation[] {
    return [...this.byId.values()];
  }

  /** Restores persisted operations (extendedQueryTagService.ts). */
  restore(operations: Operation[]): void {
    for (const operation of operations) {
      if (!isOperationId(operation.id)) continue;
      // The percent a checkpoint reached is durable even when the crash came before the
      // operation's own percent was set from it: it never goes back (extendedQueryTagService.ts).
      if (operation.checkpoint)
        operation.percentComplete = Math.max(
          operation.percentComplete,
          operation.checkpoint.percent,
        );
      this.byId.set(operation.id, operation);
    }
    this.trim();
  }

  /** The oldest ended operations go first; running ones are never dropped. */
  private trim(): void {
    for (const [id, operation] of this.byId) {
      if (this.byId.size <= this.maxKept) return;
      if (isEnded(operation.status)) this.byId.delete(id);
    }
  }
}

/**
 * The JSON of an operation. API v1 says `completed` where v2 says `succeeded` (Azure's
 * OperationsController.GetV1State: "After v1, we can use Succeeded instead of Completed").
 */
export function operationJson(
  operation: Operation,
  baseUrl: string,
  apiVersion: number,
): Record<string, unknown> {
  const status =
    apiVersion < 2 && operation.status === 'succeeded' ? 'completed' : operation.status;
  return {
    operationId: operation.id,
    type: operation.type,
    createdTime: operation.createdTime,
    lastUpdatedTime: operation.lastUpdatedTime,
    status,
    percentComplete: operation.percentComplete,
    resources: operation.resources.map((path) => `${baseUrl}/extendedquerytags/${path}`),
  };
}

/** The reference a request that starts an operation answers with (202): `{id, href}`. */
export function operationReference(
  operation: Operation,
  baseUrl: string,
): { id: string; href: string } {
  return { id: operation.id, href: `${baseUrl}/operations/${operation.id}` };
}
