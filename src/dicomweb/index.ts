/**
 * The DICOMweb client's public surface: import from here, nothing under src/dicomweb imports
 * `vscode`.
 */
export * from './transport/auth';
export * from './client';
export * from './curl';
export * from './transfer/download';
export * from './transfer/downloadWorker';
export * from './transport/errors';
export type { HttpOptions, RequestLogEntry, RetryOptions, TimeoutOptions } from './transport/http';
export type { TlsOptions } from './transport/tls';
export * from '../mime/multipart';
export * from './profiles/operations';
export * from './extendedQueryTags';
export * from './profiles/serverProfiles';
export * from './profiles/detection';
export * from './requests';
export * from './transfer/store';
export * from './transfer/stowResponse';
export * from '../dicom/types';
export * from './uidInput';
export * from './locate';
