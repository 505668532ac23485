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
  const service = {
    client_id: 'order',
    service: 'order',
    token_endpoint_auth_method: 'client_secret_basic',
  };

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

  describe('the service of each client, which its certificate must name', () => {
    it('maps each shipped service client to the service of its name', () => {
      const clients = loadClients(shipped, join(dir, 'secrets'), { generate: true });

      expect(
        Object.fromEntries(clients.map((client) => [client.client_id, client.service])),
      ).toEqual({
        web: undefined,
        cli: undefined,
        gateway: 'gateway',
        order: 'order',
        payment: 'payment',
      });
    });

    it('refuses a confidential client without one', () => {
      const { service: _, ...unnamed } = service;
      expect(() => loadClients(clientsFile([unnamed]), dir, { generate: true })).toThrow(
        /a confidential client names its service[^]*at \[0\]\.service/,
      );
    });

    it('refuses one for a public client, which gets no certificate-bound tokens', () => {
      const file = clientsFile([
        { client_id: 'web', token_endpoint_auth_method: 'none', service: 'web' },
      ]);
      expect(() => loadClients(file, dir, { generate: true })).toThrow(/a public one none/);
    });

    it('refuses two clients of one service', () => {
      const file = clientsFile([service, { ...service, client_id: 'payment' }]);
      expect(() => loadClients(file, dir, { generate: true })).toThrow(
        /two clients name the service order/,
      );
    });
  });
});
