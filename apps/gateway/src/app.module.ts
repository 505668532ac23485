import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuthModule, ServiceClientsModule } from '@acme/auth';
import {
  authOptionsFrom,
  HealthModule,
  LoggingModule,
  serviceClientsFrom,
  validatedConfig,
} from '@acme/bootstrap';
import { EdgeModule, IpAllow } from '@acme/edge';
import { AdminOrdersController } from './admin/admin-orders.controller';
import { dpopOptionsFrom } from '@acme/bootstrap/http';
import { edgeOptionsFrom, redisStoreFrom, SERVICE_NAME, validateGatewayEnv } from './config';
import type { GatewayConfig } from './config';
import { OrdersController } from './orders/orders.controller';
import { PublicInfoController } from './public/public-info.controller';

@Module({
  imports: [
    validatedConfig(validateGatewayEnv),
    LoggingModule.forRoot(SERVICE_NAME),
    // Global guards run in import order. Before AuthModule: the IP rules and the address
    // budget refuse a client before its token is even read.
    EdgeModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<GatewayConfig, true>) => edgeOptionsFrom(config),
    }),
    AuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<GatewayConfig, true>) => ({
        ...authOptionsFrom(config, SERVICE_NAME),
        dpop: dpopOptionsFrom(config, { redis: redisStoreFrom(config) }),
      }),
    }),
    // After AuthModule: the budget of each verified caller.
    EdgeModule.callerRateLimit(),
    ServiceClientsModule.registerAsync({
      services: ['order'],
      inject: [ConfigService],
      useFactory: (config: ConfigService<GatewayConfig, true>) =>
        serviceClientsFrom(config, ['order']),
    }),
    // Readiness: the issuer's keys only, so that payment being down fails `pay`, not the whole API.
    // The state of order and payment is at /healthz/dependencies, for operators' networks only.
    HealthModule.forHttp({ dependencies: ['order'], dependencyReportAccess: IpAllow('admin') }),
  ],
  controllers: [PublicInfoController, OrdersController, AdminOrdersController],
})
export class AppModule {}
