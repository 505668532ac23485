// Prints a token from the dev auth server, for curl and scripts:
//   npm run -s token -- --user alice                 # alice's token (password: alice), bound to this machine's DPoP key
//   npm run -s token -- --user bob --json            # the whole token response
//   npm run -s token -- --client order               # a service token (client credentials)
//   npm run -s token -- --proof GET --url http://localhost:3000/api/orders --token $T
//                                                    # the DPoP header for one request with that token
//   npm run -s token -- --client <id> --issuer https://acme.eu.auth0.com/ --audience https://api.acme.example --scope orders:settle
//                                                    # a service token from an external provider (docs/providers/)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  clientCredentials,
  createDpopKey,
  dpopKeyFromJwk,
  dpopProof,
  loginWithPkce,
  OidcLoginError,
  type DpopKey,
  type TokenResponse,
} from '@acme/auth/testing';

const DEFAULT_USER_SCOPE = 'openid orders:read orders:write admin:read';

const USAGE = `Usage:
  npm run -s token -- --user <name> [--password <password>] [--scope "<scopes>"] [--bearer] [--json] [--issuer <url>]
  npm run -s token -- --client <service client> [--scope "<scopes>"] [--json] [--issuer <url>] [--audience <api>]
  npm run -s token -- --proof <METHOD> --url <url> --token <DPoP-bound token> [--nonce <nonce>]

  --user      sign a user in through the login page (authorization code + PKCE, client "cli");
              the bundled auth server's login page only: with Keycloak, Auth0 or Okta use --client,
              or sign in with the web app (docs/providers/). The token is bound (DPoP, RFC 9449) to
              this machine's key, kept in $DPOP_KEY_FILE (default .dev/token/dpop-key.json, created
              once): the gateway wants "Authorization: DPoP <token>" and a fresh DPoP header, from
              --proof, with each request
  --password  default: the user name, which is the password of the dev users
  --client    get a service token (client credentials); the secret is read from
              $CLIENT_SECRETS_DIR/<client>.client-secret (default .dev/secrets). With the client's
              certificate in $CERTS_DIR (default .dev/certs), asked for over mutual TLS where the
              issuer publishes an endpoint for it: the token is bound to that certificate (RFC 8705)
              and only a holder of its key can use it, so curl cannot call the gateway with it
  --scope     default for users: "${DEFAULT_USER_SCOPE}";
              for a service client: its api_scopes in the auth server's clients file
  --issuer    default: $ISSUER, else http://localhost:3001
  --audience  sent with --client as \`audience\`: Auth0 needs it to issue a token for the API
  --json      print the whole token response instead of the access token
  --bearer    with --user: a token bound to nothing, which any holder can use; only a gateway
              with AUTH_DPOP=allowed takes it
  --proof     print the DPoP header (a proof by that key) for one request: its method, --url
              as you address the API, and --token, the DPoP-bound token sent with it
  --nonce     with --proof: the server nonce to put in the proof, from the DPoP-Nonce header of
              the gateway's last answer (when it runs with AUTH_DPOP_NONCE=true)`;

/** This machine's DPoP key: created on first use, readable by its owner only. */
function dpopKey(): DpopKey {
  const file = process.env.DPOP_KEY_FILE ?? '.dev/token/dpop-key.json';
  if (existsSync(file)) return dpopKeyFromJwk(JSON.parse(readFileSync(file, 'utf8')));
  const key = createDpopKey();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(key.privateKey.export({ format: 'jwk' })), { mode: 0o600 });
  return key;
}

function readClientSecret(clientId: string): string {
  const file = join(process.env.CLIENT_SECRETS_DIR ?? '.dev/secrets', `${clientId}.client-secret`);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new OidcLoginError(
      `No secret for client "${clientId}" in ${file}. Start the auth server once (or run the dev set-up) to create it.`,
    );
  }
}

/** The client's dev certificate, key and CA, when they exist. */
function readClientTls(clientId: string) {
  const dir = process.env.CERTS_DIR ?? '.dev/certs';
  const [ca, cert, key] = ['ca.crt', `${clientId}.crt`, `${clientId}.key`].map((name) =>
    join(dir, name),
  );
  if (![ca, cert, key].every((file) => existsSync(file))) return undefined;
  return { ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) };
}

/** The API scopes the auth server's clients file allows the client, so the token has them all. */
function serviceScope(clientId: string): string {
  const file = process.env.CLIENTS_FILE ?? 'apps/auth-server/config/clients.json';
  const clients = JSON.parse(readFileSync(file, 'utf8')) as {
    client_id: string;
    api_scopes?: string[];
  }[];
  const client = clients.find((candidate) => candidate.client_id === clientId);
  if (!client) throw new OidcLoginError(`There is no client "${clientId}" in ${file}.`);
  return (client.api_scopes ?? []).join(' ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      user: { type: 'string' },
      password: { type: 'string' },
      client: { type: 'string' },
      scope: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      json: { type: 'boolean', default: false },
      bearer: { type: 'boolean', default: false },
      proof: { type: 'string' },
      nonce: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const { user, client, scope } = values;
  const issuer = values.issuer ?? process.env.ISSUER ?? 'http://localhost:3001';

  if (values.proof !== undefined && !values.help) {
    if (!values.url || !values.token) {
      throw new OidcLoginError('--proof needs --url and --token.');
    }
    const proof = dpopProof(dpopKey(), {
      method: values.proof.toUpperCase(),
      url: values.url,
      accessToken: values.token,
      nonce: values.nonce,
    });
    process.stdout.write(`${proof}\n`);
    return;
  }

  let tokens: TokenResponse;
  if (user !== undefined && client === undefined && !values.help) {
    const password = values.password ?? user;
    tokens = await loginWithPkce({
      issuer,
      username: user,
      password,
      scope: scope ?? DEFAULT_USER_SCOPE,
      ...(values.bearer ? {} : { dpop: dpopKey() }),
    });
  } else if (client !== undefined && user === undefined && !values.help) {
    const clientSecret = readClientSecret(client);
    tokens = await clientCredentials({
      issuer,
      clientId: client,
      clientSecret,
      scope: scope ?? serviceScope(client),
      audience: values.audience,
      tls: readClientTls(client),
    });
  } else {
    process.stderr.write(`${USAGE}\n`);
    process.exit(values.help ? 0 : 2);
  }
  process.stdout.write(
    values.json ? `${JSON.stringify(tokens, null, 2)}\n` : `${tokens.access_token}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`token: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
