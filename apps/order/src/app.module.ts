import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuthModule } from '@acme/auth';
import {
  authOptionsFrom,
  brokerOptionsFrom,
  HealthModule,
  LoggingModule,
  persistenceFrom,
  validatedConfig,
} from '@acme/bootstrap';
import { EventsModule } from '@acme/events';
import { PersistenceModule } from '@acme/persistence';
import { SERVICE_NAME, validateOrderEnv } from './config';
import type { OrderConfig } from './config';
import { ORDER_MIGRATIONS } from './migrations';
import { OrdersModule } from './orders/orders.module';

@Module({
  imports: [
    validatedConfig(validateOrderEnv),
    LoggingModule.forRoot(SERVICE_NAME),
    HealthModule.forMicroservice({
      service: SERVICE_NAME,
      callers: ['gateway'],
      dependencies: ['payment'],
    }),
    AuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<OrderConfig, true>) =>
        authOptionsFrom(config, SERVICE_NAME),
    }),
    EventsModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<OrderConfig, true>) =>
        brokerOptionsFrom(config, SERVICE_NAME),
    }),
    PersistenceModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<OrderConfig, true>) =>
        persistenceFrom(config, ORDER_MIGRATIONS),
    }),
    OrdersModule,
  ],
})
export class AppModule {}
