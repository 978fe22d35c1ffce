import type { Services } from '../services';

/** `dicomweb.log.show`: every request with its status and duration, never a credential. */
export function showLog(services: Services): void {
  services.log.show(true);
}
