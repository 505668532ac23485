import { Controller, Get, Module, Post } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { AllowServices, Policy, Public, Roles, Scopes } from '../decorators/auth.decorators';
import { anyOf, hasRole, isService } from '../policy/policy';
import { auditFinding, collectAuthRules, renderAuthRules } from './auth-rules';
import type { AuthRuleEntry } from './auth-rules';

@Roles('user')
@Controller('orders')
class OrdersController {
  @Get()
  list(): void {
    // the class rule applies
  }

  @Roles({ all: ['user', 'admin'] })
  @Scopes('orders:write', 'orders:delete')
  @Post(':id/cancel')
  cancel(): void {
    // both roles and both scopes
  }

  helper(): void {
    // not a route: no HTTP method decorator
  }
}

@Controller()
class StatusController {
  @Public() // probed by the load balancer, which has no token
  @Get('health')
  health(): void {
    // public
  }

  @Get('debug')
  debug(): void {
    // forgot its rule: the audit must catch it
  }
}

@Controller()
class PaymentsController {
  @AllowServices('order')
  @Policy(anyOf(hasRole('admin'), isService('order')))
  @MessagePattern('payments.charge')
  charge(): void {
    // admin users, or the order service acting for itself
  }

  @Roles('admin')
  @MessagePattern({ cmd: 'payments.refund' })
  refund(): void {
    // forgot @AllowServices: the audit must catch it
  }

  @Policy(isService('order'))
  @EventPattern('events.order.cancelled')
  orderCancelled(): void {
    // forgot @AllowServices on an event handler: the audit must catch it too
  }

  @AllowServices('order')
  @Policy(isService('order'))
  @EventPattern(['events.order.refunded', 'payments.refunded'])
  orderRefunded(): void {
    // a mixed list: the guards take it for a broker event, from its first subject
  }
}

@Module({ controllers: [StatusController] })
class StatusModule {}

/** A dynamic module, as `forRoot()`-style modules register their controllers. */
@Module({})
class PaymentsModule {
  static register(): DynamicModule {
    return { module: PaymentsModule, controllers: [PaymentsController], imports: [StatusModule] };
  }
}

@Module({ imports: [StatusModule, PaymentsModule.register()], controllers: [OrdersController] })
class AppModule {}

describe(collectAuthRules.name, () => {
  const entries = collectAuthRules(AppModule, { globalPrefix: 'api' });

  it('lists every route and message handler reachable from the root module, once', () => {
    expect(entries.map((e) => `${e.handler}: ${e.kind} ${e.route}`).sort()).toEqual([
      'OrdersController.cancel: http POST /api/orders/:id/cancel',
      'OrdersController.list: http GET /api/orders',
      'PaymentsController.charge: rpc payments.charge',
      'PaymentsController.orderCancelled: event events.order.cancelled',
      'PaymentsController.orderRefunded: event events.order.refunded, payments.refunded',
      'PaymentsController.refund: rpc {"cmd":"payments.refund"}',
      'StatusController.debug: http GET /api/debug',
      'StatusController.health: http GET /api/health',
    ]);
  });

  it('reads the rule each handler declares, the handler rule winning over the class rule', () => {
    const rule = (handler: string) => entries.find((e) => e.handler === handler);

    expect(rule('OrdersController.list')).toMatchObject({ public: false, roles: 'any of user' });
    expect(rule('OrdersController.cancel')).toMatchObject({
      roles: 'all of user, admin',
      scopes: 'orders:write orders:delete',
    });
    expect(rule('StatusController.health')).toMatchObject({ public: true, roles: undefined });
    expect(rule('PaymentsController.charge')).toMatchObject({
      policy: "(hasRole('admin') or isService('order'))",
      services: 'order',
    });
  });

  it('reads routes without a global prefix', () => {
    expect(
      collectAuthRules(StatusModule)
        .map((e) => e.route)
        .sort(),
    ).toEqual(['GET /debug', 'GET /health']);
  });
});

describe(auditFinding.name, () => {
  const entries = collectAuthRules(AppModule, { globalPrefix: 'api' });

  it('flags the handler with no auth rule and the message and event handlers that name no calling service, and only them', () => {
    expect(entries.map(auditFinding).filter(Boolean).sort()).toEqual([
      'GET /api/debug (StatusController.debug) declares no auth rule: add @Public(), @Roles(), @Scopes() or @Policy()',
      'events.order.cancelled (PaymentsController.orderCancelled) names no calling service: add @AllowServices()',
      '{"cmd":"payments.refund"} (PaymentsController.refund) names no calling service: add @AllowServices()',
    ]);
  });

  it('flags a message handler with @AllowServices but no rule on the caller', () => {
    const entry: AuthRuleEntry = {
      kind: 'rpc',
      route: 'payments.ping',
      handler: 'P.ping',
      public: false,
      services: 'order',
    };

    expect(auditFinding(entry)).toContain('declares no auth rule');
  });
});

describe(renderAuthRules.name, () => {
  it('renders a markdown table, one row per entry, "-" for what is not declared', () => {
    const entries: AuthRuleEntry[] = [
      { kind: 'http', route: 'GET /api/health', handler: 'S.health', public: true },
      {
        kind: 'rpc',
        route: 'payments.charge',
        handler: 'P.charge',
        public: false,
        roles: 'any of admin',
        services: 'order',
      },
    ];

    expect(renderAuthRules(entries)).toBe(
      [
        '| Route / pattern | Public | Roles | Scopes | Policy | Calling services |',
        '| --- | --- | --- | --- | --- | --- |',
        '| `GET /api/health` | yes | - | - | - | - |',
        '| `payments.charge` | no | any of admin | - | - | order |',
      ].join('\n'),
    );
  });

  it('escapes a pipe inside a cell, which would otherwise split it', () => {
    const entry: AuthRuleEntry = {
      kind: 'http',
      route: 'GET /x',
      handler: 'X.x',
      public: false,
      policy: 'a | b',
    };

    expect(renderAuthRules([entry]).split('\n')[2]).toBe('| `GET /x` | no | - | - | a \\| b | - |');
  });
});
