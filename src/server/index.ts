/** The local DICOMweb server's public surface (no `vscode` import anywhere under src/server). */
export { startLocalServer, type LocalServer, type LocalServerOptions } from './localServer';
export { FailureReason } from './stow';
export { QIDO_DEFAULT_LIMIT, QIDO_MAX_LIMIT } from './qido';
export { STATE_DIR, fileNameForUid, isAcceptableUid } from './storage';
