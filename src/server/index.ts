/** The local DICOMweb server's public surface (no `vscode` import anywhere under src/server). */
export { startLocalServer, type LocalServer, type LocalServerOptions } from './lifecycle';
export { FailureReason } from './stow';
export { QIDO_DEFAULT_LIMIT, QIDO_MAX_LIMIT } from './qido';
export { STATE_DIR, fileNameForUid, isAcceptableUid } from './storage';
export {
  BODY_GRACE_MS,
  BODY_IDLE_TIMEOUT_MS,
  BODY_MIN_BYTES_PER_SECOND,
  DEFAULT_LIMITS,
  HEADERS_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  MAX_CONNECTIONS,
  MAX_FRAME_LIST_LENGTH,
  MAX_OTHER_BODY_BYTES,
  MAX_PARTITIONS,
  MAX_STOW_BODY_BYTES,
  SOCKET_IDLE_TIMEOUT_MS,
  type ServerLimits,
} from './limits';
export { TOKEN_ENV } from './tokenEnv';
export {
  DEFAULT_PARTITION,
  PARTITIONS_DIR,
  PartitionMessages,
  partitionNameProblem,
  type PartitionEntry,
} from './partitions';
