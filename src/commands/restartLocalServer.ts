import type { Services } from '../services';

/** `dicomweb.localServer.restart`: the service URL it answers on afterwards. */
export async function restartLocalServer(services: Services): Promise<string> {
  const server = await services.localServer.restart();
  return services.localServer.serviceUrl(server);
}
