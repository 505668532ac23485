import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AuthModule } from '@acme/auth';
import { authOptionsFrom } from '@acme/bootstrap';
import { SERVICE_NAME, validatePaymentEnv } from './config';
import type { PaymentConfig } from './config';
import { PaymentsModule } from './payments/payments.module';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: validatePaymentEnv }),
    AuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<PaymentConfig, true>) => authOptionsFrom(config, SERVICE_NAME),
    }),
    PaymentsModule,
  ],
})
export class AppModule {}
