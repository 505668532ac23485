import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AuthModule } from '@acme/auth';
import { authOptionsFrom, persistenceFrom } from '@acme/bootstrap';
import { PersistenceModule } from '@acme/persistence';
import { SERVICE_NAME, validatePaymentEnv } from './config';
import type { PaymentConfig } from './config';
import { PAYMENT_MIGRATIONS } from './migrations';
import { PaymentsModule } from './payments/payments.module';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: validatePaymentEnv }),
    AuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<PaymentConfig, true>) => authOptionsFrom(config, SERVICE_NAME),
    }),
    PersistenceModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<PaymentConfig, true>) => persistenceFrom(config, PAYMENT_MIGRATIONS),
    }),
    PaymentsModule,
  ],
})
export class AppModule {}
