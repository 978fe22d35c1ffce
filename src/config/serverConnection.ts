/**
 * One configured DICOMweb connection, as the `dicomweb.servers` setting holds it. A file of
 * its own: the settings store (connections.ts) and the policy that judges entries
 * (connectionPolicy.ts) both need the type, and neither should import the other for it.
 */
import type { ServerKind } from '../dicomweb/profiles/serverProfiles';

export type AuthKind = 'none' | 'bearer' | 'basic' | 'entra';

/** One entry of the `dicomweb.servers` setting. */
export interface ServerConnection {
  id: string;
  name: string;
  url: string;
  kind?: ServerKind;
  auth?: AuthKind;
  username?: string;
  headers?: Record<string, string>;
  serverRoot?: string;
  caFile?: string;
  rejectUnauthorized?: boolean;
  /**
   * Further origins that may receive this connection's credentials (e.g. a separate bulk
   * data host), passed to the client's `trustedOrigins`. Ignored in workspace settings.
   */
  trustedOrigins?: string[];
  /**
   * Set at run time, never saved: the entry comes from a workspace's settings
   * (src/config/connectionPolicy.ts); it gets no credential until its origin is approved.
   */
  source?: 'workspace';
}
