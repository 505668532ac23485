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
import { SERVICE_NAME, validatePaymentEnv } from './config';
import type { PaymentConfig } from './config';
import { PAYMENT_MIGRATIONS } from './migrations';
import { PaymentsModule } from './payments/payments.module';

@Module({
  imports: [
    validatedConfig(validatePaymentEnv),
    LoggingModule.forRoot(SERVICE_NAME),
    HealthModule.forMicroservice({ service: SERVICE_NAME, callers: ['order'] }),
    AuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<PaymentConfig, true>) =>
        authOptionsFrom(config, SERVICE_NAME),
    }),
    EventsModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<PaymentConfig, true>) =>
        brokerOptionsFrom(config, SERVICE_NAME),
    }),
    PersistenceModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<PaymentConfig, true>) =>
        persistenceFrom(config, PAYMENT_MIGRATIONS),
    }),
    PaymentsModule,
  ],
})
export class AppModule {}
