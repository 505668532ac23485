import { NotFoundException } from '@nestjs/common';
import type { Principal } from '../principal';
import {
  allOf,
  anyOf,
  calledVia,
  fromNetwork,
  hasRole,
  hasScope,
  isOwner,
  isService,
} from './policy';
import type { PolicyContext, PolicyRule, ResourceOwnerLoader } from './policy';

interface StoredOrder {
  id: string;
  ownerId: string;
}

class OrderOwnerLoader implements ResourceOwnerLoader<StoredOrder> {
  load(input: unknown): StoredOrder | undefined {
    const { orderId } = input as { orderId: string };
    return orderId === 'order-1' ? { id: orderId, ownerId: 'alice' } : undefined;
  }

  ownerOf(order: StoredOrder): string {
    return order.ownerId;
  }
}

// Rules are pure functions of a principal: a literal one keeps these cases short. The
// guard specs run the same rules on principals verified from real tokens.
function contextOf(
  principal: Partial<Principal>,
  input: unknown = {},
  keep?: (resource: unknown) => void,
  clientNetworks: readonly string[] = [],
): PolicyContext {
  return {
    keep,
    clientNetworks,
    principal: {
      kind: 'user',
      subject: 'alice',
      clientId: 'web',
      actors: [],
      roles: [],
      scopes: [],
      tokenId: 'jti-1',
      expiresAt: 0,
      claims: {},
      ...principal,
    },
    input,
    resolve: <T>() => new OrderOwnerLoader() as T,
  };
}

/** A rule that records whether it was evaluated. */
function spyRule(result: boolean): PolicyRule & { evaluated: boolean } {
  const rule = {
    description: `always(${result})`,
    evaluated: false,
    evaluate: () => {
      rule.evaluated = true;
      return result;
    },
  };
  return rule;
}

describe('policy rules', () => {
  it('hasRole holds for a user with the role, never for a service', async () => {
    expect(await hasRole('admin').evaluate(contextOf({ roles: ['admin'] }))).toBe(true);
    expect(await hasRole('admin').evaluate(contextOf({ roles: ['user'] }))).toBe(false);
    expect(await hasRole('admin').evaluate(contextOf({ kind: 'service', roles: ['admin'] }))).toBe(
      false,
    );
  });

  it('fromNetwork holds when the client comes from the named IP list', async () => {
    const from = (networks: string[]) => contextOf({}, {}, undefined, networks);
    expect(await fromNetwork('admin').evaluate(from(['office', 'admin']))).toBe(true);
    expect(await fromNetwork('admin').evaluate(from(['office']))).toBe(false);
    expect(fromNetwork('admin').description).toBe("fromNetwork('admin')");
  });

  it("hasRole with `from` needs the role and the client's network both", async () => {
    const rule = hasRole('admin', { from: 'admin' });
    const admin = (networks: string[]) => contextOf({ roles: ['admin'] }, {}, undefined, networks);
    expect(await rule.evaluate(admin(['admin']))).toBe(true);
    expect(await rule.evaluate(admin([]))).toBe(false);
    expect(await rule.evaluate(contextOf({ roles: ['user'] }, {}, undefined, ['admin']))).toBe(
      false,
    );
    expect(rule.description).toBe("hasRole('admin', { from: 'admin' })");
  });

  it('hasScope holds when the token grants the scope', async () => {
    expect(await hasScope('orders:read').evaluate(contextOf({ scopes: ['orders:read'] }))).toBe(
      true,
    );
    expect(await hasScope('orders:read').evaluate(contextOf({ scopes: ['orders:write'] }))).toBe(
      false,
    );
  });

  it('isService holds only for that service acting as itself, whatever its client id', async () => {
    const rule = isService('order');

    expect(await rule.evaluate(contextOf({ kind: 'service', service: 'order' }))).toBe(true);
    expect(
      await rule.evaluate(contextOf({ kind: 'service', service: 'payment', clientId: 'order' })),
    ).toBe(false);
    expect(await rule.evaluate(contextOf({ kind: 'user', clientId: 'order' }))).toBe(false);
  });

  it('calledVia holds only when the named service is the current actor, never a prior one', async () => {
    const rule = calledVia('order');

    expect(await rule.evaluate(contextOf({ actors: ['order', 'gateway'] }))).toBe(true);
    expect(await rule.evaluate(contextOf({ actors: ['payment', 'order'] }))).toBe(false);
    expect(await rule.evaluate(contextOf({ actors: [] }))).toBe(false);
    expect(await rule.evaluate(contextOf({ kind: 'service', service: 'order' }))).toBe(false);
  });

  it('isOwner compares the owner the loader finds with the user, and answers 404 when there is none', async () => {
    const rule = isOwner(OrderOwnerLoader);

    expect(await rule.evaluate(contextOf({ subject: 'alice' }, { orderId: 'order-1' }))).toBe(true);
    expect(await rule.evaluate(contextOf({ subject: 'bob' }, { orderId: 'order-1' }))).toBe(false);
    await expect(
      rule.evaluate(contextOf({ subject: 'bob' }, { orderId: 'order-2' })),
    ).rejects.toThrow(NotFoundException);
  });

  it('isOwner hands the order it loaded to the handler, only when the caller owns it', async () => {
    const kept: unknown[] = [];
    const keep = (resource: unknown) => kept.push(resource);

    await isOwner(OrderOwnerLoader).evaluate(
      contextOf({ subject: 'bob' }, { orderId: 'order-1' }, keep),
    );
    expect(kept).toEqual([]);
    await isOwner(OrderOwnerLoader).evaluate(
      contextOf({ subject: 'alice' }, { orderId: 'order-1' }, keep),
    );
    expect(kept).toEqual([{ id: 'order-1', ownerId: 'alice' }]);
  });

  it('anyOf stops at the first rule that holds', async () => {
    const [first, second] = [spyRule(true), spyRule(true)];

    expect(await anyOf(first, second).evaluate(contextOf({}))).toBe(true);
    expect(second.evaluated).toBe(false);
    expect(await anyOf(spyRule(false), spyRule(false)).evaluate(contextOf({}))).toBe(false);
  });

  it('allOf stops at the first rule that fails', async () => {
    const [first, second] = [spyRule(false), spyRule(true)];

    expect(await allOf(first, second).evaluate(contextOf({}))).toBe(false);
    expect(second.evaluated).toBe(false);
    expect(await allOf(spyRule(true), spyRule(true)).evaluate(contextOf({}))).toBe(true);
  });

  it('anyOf and allOf answer at once from rules that decide at once, and wait only on one that loads', async () => {
    const loading = (result: boolean): PolicyRule => ({
      description: `loaded(${result})`,
      evaluate: () => Promise.resolve(result),
    });

    expect(anyOf(spyRule(false), spyRule(true)).evaluate(contextOf({}))).toBe(true);
    expect(allOf(spyRule(true), spyRule(false)).evaluate(contextOf({}))).toBe(false);

    const next = spyRule(true);
    await expect(anyOf(loading(false), next).evaluate(contextOf({}))).resolves.toBe(true);
    expect(next.evaluated).toBe(true);
    const skipped = spyRule(true);
    await expect(anyOf(loading(true), skipped).evaluate(contextOf({}))).resolves.toBe(true);
    expect(skipped.evaluated).toBe(false);
    await expect(allOf(spyRule(true), loading(false)).evaluate(contextOf({}))).resolves.toBe(false);
    await expect(allOf(loading(true), spyRule(true)).evaluate(contextOf({}))).resolves.toBe(true);
  });

  it('describes a composed rule for the authorization report', () => {
    expect(
      allOf(hasScope('orders:write'), anyOf(hasRole('admin'), isOwner(OrderOwnerLoader)))
        .description,
    ).toBe("(hasScope('orders:write') and (hasRole('admin') or isOwner(OrderOwnerLoader)))");
  });
});
