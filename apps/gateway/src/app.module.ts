import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AuthModule, ServiceClientsModule } from '@acme/auth';
import { authOptionsFrom, serviceClientsFrom } from '@acme/bootstrap';
import { AdminOrdersController } from './admin/admin-orders.controller';
import { SERVICE_NAME, validateGatewayEnv } from './config';
import type { GatewayConfig } from './config';
import { OrdersController } from './orders/orders.controller';
import { PublicInfoController } from './public/public-info.controller';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: validateGatewayEnv }),
    AuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<GatewayConfig, true>) => authOptionsFrom(config, SERVICE_NAME),
    }),
    ServiceClientsModule.registerAsync({
      services: ['order'],
      inject: [ConfigService],
      useFactory: (config: ConfigService<GatewayConfig, true>) =>
        serviceClientsFrom(config, { order: config.get('ORDER_ADDRESS', { infer: true }) }),
    }),
  ],
  controllers: [PublicInfoController, OrdersController, AdminOrdersController],
})
export class AppModule {}
