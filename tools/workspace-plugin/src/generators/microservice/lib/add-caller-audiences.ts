import { logger, updateJson } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import type { NormalizedOptions } from './normalize-options';

/** The bundled auth server's registered clients. */
const CLIENTS_FILE = 'apps/auth-server/config/clients.json';

interface ClientEntry {
  client_id: string;
  call_audiences?: string[];
}

/**
 * Lets each caller's OAuth client at the bundled auth server get tokens for the
 * new service's audience (its `call_audiences`: token exchange, client
 * credentials), so a caller can exchange its callers' tokens for it. A caller
 * without a client there is named, to register by hand.
 */
export function addCallerAudiences(tree: Tree, options: NormalizedOptions): void {
  if (!tree.exists(CLIENTS_FILE)) return;
  const registered = new Set<string>();
  updateJson<ClientEntry[]>(tree, CLIENTS_FILE, (clients) =>
    clients.map((client) => {
      if (!options.callers.includes(client.client_id)) return client;
      registered.add(client.client_id);
      const audiences = client.call_audiences ?? [];
      return audiences.includes(options.audience)
        ? client
        : { ...client, call_audiences: [...audiences, options.audience] };
    }),
  );
  for (const caller of options.callers.filter((name) => !registered.has(name))) {
    logger.warn(
      `${CLIENTS_FILE}: ${caller} has no OAuth client; give it one with "service": "${caller}" (as its certificate's SPIFFE ID names it) and ${options.audience} in its call_audiences.`,
    );
  }
}
