import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { httpAuditSubject, writeAuditEvent, type AuditSubject } from '@acme/auth';
import type { Request, Response } from 'express';
import type { Interaction, Provider } from 'oidc-provider';
import { NEST_ROUTES } from '../app.constants';
import { countLogin } from '../auth-server.metrics';
import { OIDC_PROVIDER } from '../oidc/oidc.constants';
import { userScopePolicy } from '../oidc/scope-policy';
import { PasswordCheckBusyError } from '../users/password-check-queue';
import { UsersService, type User } from '../users/users.service';
import { LoginThrottleService } from './login-throttle.service';

/** What oidc-provider's consent prompt reports as not granted yet. */
interface ConsentDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export type LoginFailure =
  | { reason: 'invalid_credentials' }
  | { reason: 'locked'; retryAfterSeconds: number }
  | { reason: 'busy'; retryAfterSeconds: number };

/**
 * Who signed in from where. The action is the route, not the path: the path holds the
 * interaction's id, which is also the value of its cookie.
 */
function signInSubject(req: Request, principal: string): AuditSubject {
  return {
    ...httpAuditSubject(req, principal),
    action: `POST /${NEST_ROUTES.interaction}/:uid/login`,
  };
}

/** What a client refused for a busy server should wait: a password check takes a fraction of that. */
const BUSY_RETRY_SECONDS = 1;

/** The sign-in and consent steps oidc-provider delegates to us (its "interactions"). */
@Injectable()
export class InteractionService {
  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    private readonly users: UsersService,
    private readonly throttle: LoginThrottleService,
  ) {}

  /** The interaction of the browser's interaction cookie, which must be the one in the URL. */
  async find(uid: string, req: Request, res: Response): Promise<Interaction> {
    const interaction = await this.provider.interactionDetails(req, res);
    if (interaction.uid !== uid) throw new BadRequestException('interaction mismatch');
    return interaction;
  }

  async clientName(interaction: Interaction): Promise<string> {
    const client = await this.provider.Client.find(String(interaction.params.client_id));
    return client?.clientName ?? String(interaction.params.client_id);
  }

  /**
   * Checks the credentials. On success finishes the login step (responds with a redirect); otherwise
   * says why, with one reason for an unknown user and a wrong password alike.
   */
  async login(
    req: Request,
    res: Response,
    { username, password }: { username: string; password: string },
  ): Promise<LoginFailure | undefined> {
    // Counted before the password check, so parallel guesses cannot all get one.
    const retryAfterSeconds = await this.throttle.attempt(username, req.ip);
    if (retryAfterSeconds > 0) {
      writeAuditEvent({
        event: 'authn_login_lock',
        // The user name is left out of every failure: people type passwords into that field.
        ...signInSubject(req, 'anonymous'),
        reason: `too many failed sign-ins, locked for ${retryAfterSeconds} s`,
      });
      countLogin('locked');
      return { reason: 'locked', retryAfterSeconds };
    }

    let user: User | undefined;
    try {
      user = await this.users.verifyCredentials(username, password);
    } catch (error) {
      if (!(error instanceof PasswordCheckBusyError)) throw error;
      await this.throttle.notChecked(username, req.ip);
      countLogin('busy');
      return { reason: 'busy', retryAfterSeconds: BUSY_RETRY_SECONDS };
    }
    if (!user) {
      writeAuditEvent({
        event: 'authn_login_fail',
        ...signInSubject(req, 'anonymous'),
        reason: 'invalid credentials',
      });
      countLogin('failure');
      return { reason: 'invalid_credentials' };
    }
    await this.throttle.succeeded(username, req.ip);
    writeAuditEvent({
      event: 'authn_login_success',
      ...signInSubject(req, `user:${user.username}`),
      reason: 'valid credentials',
    });
    countLogin('success');
    await this.provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.username } },
      { mergeWithLastSubmission: false },
    );
    return undefined;
  }

  /**
   * Grants what the client asked for, minus the API scopes the user's roles do not allow (dropped
   * silently, as OAuth lets the server grant less than asked). There is no consent page: the
   * clients are our own (`first_party`); any other client is refused.
   */
  async grantConsent(req: Request, res: Response, interaction: Interaction): Promise<void> {
    const { params, session, grantId } = interaction;
    const client = await this.provider.Client.find(String(params.client_id));
    const user = session && this.users.findByUsername(session.accountId);
    if (client?.metadata().first_party !== true || !user) {
      return this.provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'consent required' },
        { mergeWithLastSubmission: false },
      );
    }

    const grant =
      (grantId && (await this.provider.Grant.find(grantId))) ||
      new this.provider.Grant({ accountId: user.username, clientId: client.clientId });
    const details = interaction.prompt.details as ConsentDetails;
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope);
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      const { granted, rejected } = userScopePolicy(scopes, user.roles);
      grant.addResourceScope(resource, granted);
      grant.rejectResourceScope(resource, rejected);
    }
    await this.provider.interactionFinished(
      req,
      res,
      { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true },
    );
  }
}
