/**
 * Questions the extension asks a person. One seam so that integration tests in the real
 * extension host can answer a modal dialog that Playwright UI tests click for real.
 * Here, below the services container: the client factory and the credential gate ask
 * through it, and src/services.ts (built at the top) only holds the one in use.
 */
export interface UserPrompts {
  /** A modal warning; resolves true only when the person chose `action`. */
  confirm(message: string, detail: string, action: string): Promise<boolean>;
  /** A password-style input (a token or password after a 401); undefined when dismissed. */
  askSecret(title: string, prompt: string): Promise<string | undefined>;
}
