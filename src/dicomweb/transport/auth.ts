/**
 * Credentials for DICOMweb requests. A provider is asked for the Authorization header on
 * every request, so a bearer token can be refreshed behind the client's back (Entra ID
 * tokens live about an hour), and on a 401 it may refresh once before the client gives up.
 */

export interface AuthProvider {
  readonly kind: 'none' | 'bearer' | 'basic';
  /** The Authorization header value, or undefined for none. */
  authorization(): Promise<string | undefined>;
  /**
   * Called after a 401. Resolve true when new credentials were obtained (the request is
   * then sent once more), false to let the 401 reach the caller.
   */
  refresh?(): Promise<boolean>;
}

export const noAuth: AuthProvider = {
  kind: 'none',
  authorization: async () => undefined,
};

/**
 * Bearer token auth. `getToken(forceRefresh)` is called before each request (cache inside
 * it); after a 401 it is called once with `forceRefresh = true`.
 */
export function bearerAuth(
  getToken: (forceRefresh: boolean) => Promise<string | undefined>,
): AuthProvider {
  // The token a refresh obtained, used by the retry it allows.
  let refreshed: string | undefined;
  return {
    kind: 'bearer',
    async authorization() {
      const token = refreshed ?? (await getToken(false));
      refreshed = undefined;
      return token ? `Bearer ${token}` : undefined;
    },
    /**
     * Asks for a new token now. Without one (the person cancelled the prompt), there is
     * nothing to retry with: false, and the caller reports the 401 that refused the token
     * instead of sending the request again with no credential at all.
     */
    async refresh() {
      refreshed = await getToken(true);
      return refreshed !== undefined && refreshed !== '';
    },
  };
}

/**
 * HTTP basic auth (RFC 7617). The password may come from a callback so it stays in a secret store.
 */
export function basicAuth(
  username: string,
  password: string | (() => Promise<string | undefined>),
): AuthProvider {
  return {
    kind: 'basic',
    async authorization() {
      const secret = typeof password === 'string' ? password : ((await password()) ?? '');
      return `Basic ${Buffer.from(`${username}:${secret}`, 'utf8').toString('base64')}`;
    },
  };
}
