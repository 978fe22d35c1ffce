/**
 * The door every credential passes (issue 10, finding 4b): before a connection's secret is
 * read, an Entra token requested or an Authorization header built, the approvals of
 * src/config/connectionPolicy.ts are checked and, when missing, asked for once in a modal.
 * Approvals are kept per origin in globalState (revocable); a refusal holds for the rest
 * of the session, so a tree refresh does not ask again and again. No `vscode` import.
 */
import type { AuthProvider } from '../dicomweb/transport/auth';
import {
  approvalsNeeded,
  approve,
  parseApprovals,
  questionText,
  revoke,
  type ApprovalKind,
  type Approvals,
} from './connectionPolicy';
import type { UserPrompts } from './prompts';
import type { ServerConnection } from './serverConnection';

/** globalState key of the approved origins. */
export const APPROVALS_KEY = 'dicomweb.approvedOrigins';

/** The part of a vscode.Memento the gate uses. */
export interface ApprovalState {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export class CredentialGate {
  /** Questions refused in this session, `${kind} ${origin}`. */
  private readonly refused = new Set<string>();
  /** Questions being asked, so concurrent requests share one modal. */
  private readonly pending = new Map<string, Promise<boolean>>();

  constructor(
    private readonly state: ApprovalState,
    private readonly prompts: () => Pick<UserPrompts, 'confirm'>,
    private readonly log: { info(text: string): void; warn(text: string): void },
  ) {}

  approvals(): Approvals {
    return parseApprovals(this.state.get(APPROVALS_KEY));
  }

  /** True when the connection's credential may be used now; asks what is missing. */
  async allow(connection: ServerConnection): Promise<boolean> {
    for (const question of approvalsNeeded(connection, this.approvals())) {
      const key = `${question.kind} ${question.origin}`;
      if (this.refused.has(key)) return false;
      let answer = this.pending.get(key);
      if (!answer) {
        answer = this.ask(connection, question.kind, question.origin).finally(() =>
          this.pending.delete(key),
        );
        this.pending.set(key, answer);
      }
      if (!(await answer)) return false;
    }
    return true;
  }

  private async ask(
    connection: ServerConnection,
    kind: ApprovalKind,
    origin: string,
  ): Promise<boolean> {
    if (origin === '(invalid URL)') return false;
    const { message, detail } = questionText({ kind, origin }, connection.name);
    const allowed = await this.prompts().confirm(message, detail, 'Allow');
    if (allowed) {
      await this.state.update(APPROVALS_KEY, approve(this.approvals(), kind, origin));
      this.log.info(
        `Approved ${origin} for ${kind === 'workspace' ? 'credentials of workspace connections' : 'Entra ID tokens'} ("${connection.name}")`,
      );
    } else {
      this.refused.add(`${kind} ${origin}`);
      this.log.warn(
        `No credential sent to ${origin} for "${connection.name}": ${kind === 'workspace' ? 'a workspace connection whose origin is not approved' : 'not an Azure DICOM host and not approved for Entra ID'}. Requests go without Authorization.`,
      );
    }
    return allowed;
  }

  /** Forgets approvals (and this session's refusals) of the given origins. */
  async revoke(origins: readonly string[]): Promise<void> {
    await this.state.update(APPROVALS_KEY, revoke(this.approvals(), origins));
    for (const key of [...this.refused])
      if (origins.some((origin) => key.endsWith(` ${origin}`))) this.refused.delete(key);
  }

  /**
   * `provider` behind the gate: no Authorization (and no secret read, no token asked) until
   * the connection is allowed; after a 401, no new credential asked for either.
   */
  guard(connection: ServerConnection, provider: AuthProvider): AuthProvider {
    if (provider.kind === 'none') return provider;
    const gated: AuthProvider = {
      kind: provider.kind,
      authorization: async () =>
        (await this.allow(connection)) ? provider.authorization() : undefined,
    };
    if (provider.refresh) {
      const refresh = provider.refresh.bind(provider);
      gated.refresh = async () => ((await this.allow(connection)) ? refresh() : false);
    }
    return gated;
  }
}
