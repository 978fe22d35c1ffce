/** The DICOMweb client's public surface: import from here, nothing under src/dicomweb imports `vscode`. */
export * from './auth';
export * from './client';
export * from './curl';
export * from './download';
export * from './downloadWorker';
export * from './errors';
export type {
  HttpOptions,
  RequestLogEntry,
  RetryOptions,
  TimeoutOptions,
  TlsOptions,
} from './http';
export * from './multipart';
export * from './operations';
export * from './profiles';
export * from './requests';
export * from './store';
export * from './stowResponse';
export * from './types';
