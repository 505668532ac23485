import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClients } from './clients';

describe(loadClients.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-server-clients-'));
  const shipped = join(__dirname, '../../config/clients.json');
  const clientsFile = (clients: unknown[]) => {
    const file = join(dir, `clients-${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(clients));
    return file;
  };
  const service = { client_id: 'order', token_endpoint_auth_method: 'client_secret_basic' };

  it('adds each confidential client its secret file, and nothing to public clients', () => {
    const secrets = join(dir, 'secrets');
    const clients = loadClients(shipped, secrets, { generate: true });
    const byId = new Map(clients.map((client) => [client.client_id, client]));

    expect(byId.get('order')?.client_secret).toMatch(/^[\w-]{43}$/);
    expect(byId.get('payment')?.client_secret).toMatch(/^[\w-]{43}$/);
    expect(byId.get('web')).not.toHaveProperty('client_secret');
    expect(byId.get('cli')).not.toHaveProperty('client_secret');
  });

  it('refuses a secret in the clients file', () => {
    const file = clientsFile([{ ...service, client_secret: 'committed-by-mistake' }]);
    expect(() => loadClients(file, dir, { generate: true })).toThrow(
      /never go in the clients file/,
    );
  });

  it('needs every secret file in production', () => {
    expect(() =>
      loadClients(clientsFile([service]), join(dir, 'empty'), { generate: false }),
    ).toThrow(/order\.client-secret/);
  });

  it('refuses a short secret', () => {
    const secrets = mkdtempSync(join(dir, 'short-'));
    writeFileSync(join(secrets, 'order.client-secret'), 'too-short\n');
    expect(() => loadClients(clientsFile([service]), secrets, { generate: false })).toThrow(
      /shorter than 32/,
    );
  });

  it('refuses an API scope the API does not have', () => {
    const file = clientsFile([{ ...service, api_scopes: ['everything'] }]);
    expect(() => loadClients(file, dir, { generate: true })).toThrow(/api_scopes/);
  });
});
