/**
 * Writes docs/AUTHORIZATION.md: every HTTP route and message pattern of every
 * resource server, with the rule it declares. Read from the decorators, so the
 * report cannot drift from the code; `--check` fails when the committed file
 * is stale or a handler declares no rule.
 *
 *   npm run auth:report            # regenerate
 *   npm run auth:report -- --check # verify (part of npm test)
 */
import 'reflect-metadata';
import { auditFinding, collectAuthRules, renderAuthRules } from '@acme/auth';
import { HEALTH_ROUTES } from '@acme/bootstrap';
import type { Type } from '@nestjs/common';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishGeneratedDoc } from '../generated-doc/generated-doc';

const REPORT = 'docs/AUTHORIZATION.md';

interface App {
  name: string;
  globalPrefix?: string;
}

/** Resource servers: every app except the issuer itself (scope:auth), whose endpoints OAuth protects. */
function resourceServers(): App[] {
  return readdirSync('apps')
    .filter((name) => existsSync(join('apps', name, 'src', 'app.module.ts')))
    .filter((name) => {
      const project = JSON.parse(readFileSync(join('apps', name, 'project.json'), 'utf8')) as {
        tags?: string[];
      };
      return project.tags?.includes('type:app') && !project.tags.includes('scope:auth');
    })
    .sort()
    .map((name) => ({ name, globalPrefix: readGlobalPrefix(name) }));
}

/** The prefix `createHttpApp` is given in the app's main.ts, if any. */
function readGlobalPrefix(app: string): string | undefined {
  const main = readFileSync(join('apps', app, 'src', 'main.ts'), 'utf8');
  return /globalPrefix:\s*'([^']+)'/.exec(main)?.[1];
}

/** How the tokens that reach these handlers are scoped; the same for every app, so written once. */
const TOKEN_EXCHANGE = `## Token exchange per hop

Each service accepts only tokens for its own audience (listed under its name above; \`AUTH_AUDIENCE\`), so a token one service received is refused (401 \`invalid_token\`, \`wrong audience\`) by every other, the gateway included.

- **On the way.** \`ServiceClient.send\` exchanges the caller's token at the issuer (RFC 8693, the service authenticating with its own client secret) for a token for the callee alone (\`<SERVICE>_AUDIENCE\`): same \`sub\`, same scopes or fewer, an \`act\` claim naming the calling service, nested down the chain (at payment: \`act: { sub: 'order', act: { sub: 'gateway' } }\`). It lives \`EXCHANGED_TOKEN_TTL\` (120 s) at most and never beyond the token exchanged; each is cached per user token and callee until shortly before it expires. \`sendAsService\` asks for a client-credentials token for the callee's audience.
- **At the auth server** (\`apps/auth-server/config/clients.json\`): a service may exchange only tokens addressed to its own \`resource_audience\`, only for the audiences in its \`call_audiences\` (\`invalid_target\` otherwise), only scopes the token holds (\`invalid_scope\`), never a client-credentials token, expired, tampered or foreign token (\`invalid_grant\`); a client without the grant (payment, which acts only as itself) gets \`invalid_request\`.
- **Bound to the caller's certificate** (RFC 8705). A service asks for its exchanged and client-credentials tokens over mutual TLS (the issuer's \`mtls_endpoint_aliases\`), so each carries \`cnf["x5t#S256"]\` of that service's certificate. The bundled auth server issues them only over a certificate naming the client's own \`service\` (\`clients.json\`); another service's client secret gets 401 \`invalid_client\`. The callee refuses it (401 \`invalid_token\`) over a connection whose peer certificate is another, and over HTTP. With \`AUTH_REQUIRE_CERTIFICATE_BOUND_TOKENS\` (the default with the bundled issuer, mutual TLS and exchange) an unbound token is refused too.
- **In handlers.** \`@CurrentUser().actors\` is the chain, current actor first; \`@Policy(calledVia('order'))\` holds when order exchanged the token (only the current actor counts, RFC 8693 4.1).
- **Issuers without token exchange** (or where it is not set up: docs/providers): \`AUTH_DELEGATION=forward\` forwards the caller's token as it is. Then every service must accept it, one audience for all or an \`aud\` naming each, and any service can replay a user's token at the others until it expires; \`calledVia\` never holds. Keycloak 26 exchanges tokens (docs/providers/keycloak.md).
`;

/** The default `AUTH_AUDIENCE` of the app's configuration schema (the one export that has the key). */
function defaultAudience(app: string): string {
  const config = require(join(process.cwd(), 'apps', app, 'src', 'config')) as Record<
    string,
    unknown
  >;
  for (const value of Object.values(config)) {
    const key = (value as { shape?: Record<string, { parse(input: unknown): unknown }> } | null)
      ?.shape?.['AUTH_AUDIENCE'];
    if (key) return String(key.parse(undefined));
  }
  throw new Error(`apps/${app}/src/config.ts exports no schema with AUTH_AUDIENCE`);
}

function render(): { markdown: string; findings: string[] } {
  const sections: string[] = [];
  const findings: string[] = [];
  for (const app of resourceServers()) {
    const { AppModule } = require(join(process.cwd(), 'apps', app.name, 'src', 'app.module')) as {
      AppModule: Type<unknown>;
    };
    // createHttpApp keeps the health routes out of the global prefix.
    const rules = collectAuthRules(AppModule, {
      globalPrefix: app.globalPrefix,
      excludeFromPrefix: Object.values(HEALTH_ROUTES),
    });
    findings.push(
      ...rules
        .map(auditFinding)
        .filter((f): f is string => f !== undefined)
        .map((f) => `${app.name}: ${f}`),
    );
    sections.push(
      `## ${app.name}\n\nAccepts only tokens for the audience \`${defaultAudience(app.name)}\` (\`AUTH_AUDIENCE\`).\n\n${renderAuthRules(rules)}\n`,
    );
  }
  const markdown = [
    '# Authorization report',
    '',
    'Generated by `npm run auth:report` from the decorators on every route and message handler; `npm test` fails when it is stale.',
    'Every rule is enforced by the global guards of `@acme/auth`: a handler must pass all the columns it fills in.',
    'Message handlers also require a token (unless public) and a mutual-TLS peer whose certificate names a listed calling service.',
    'Event handlers (`event`) take events from the broker only, each signed with the certificate key of a listed producing service (the calling services column) and verified against the system CA; an event grants no roles or scopes. See docs/events.md.',
    '',
    ...sections,
    TOKEN_EXCHANGE,
  ].join('\n');
  return { markdown, findings };
}

async function main(): Promise<void> {
  const { markdown: generated, findings } = render();
  if (findings.length > 0) {
    console.error(`Handlers without an auth rule:\n${findings.join('\n')}`);
    process.exit(1);
  }
  await publishGeneratedDoc(REPORT, generated, 'npm run auth:report');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
