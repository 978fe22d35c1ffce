import type { Services } from '../services';

/** `dicomweb.localServer.stop` */
export async function stopLocalServer(services: Services): Promise<boolean> {
  return services.localServer.stop();
}
