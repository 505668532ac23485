import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ServiceClientsModule } from '@acme/auth';
import { serviceClientsFrom, serviceCredentialsFrom } from '@acme/bootstrap';
import type { PaymentConfig } from '../config';
import { PayerLoader } from './payer.loader';
import { PaymentsController } from './payments.controller';
import { PaymentsService } from './payments.service';

@Module({
  imports: [
    ServiceClientsModule.registerAsync({
      services: ['order'],
      inject: [ConfigService],
      useFactory: (config: ConfigService<PaymentConfig, true>) => ({
        ...serviceClientsFrom(config, { order: config.get('ORDER_ADDRESS', { infer: true }) }),
        credentials: serviceCredentialsFrom(config),
      }),
    }),
  ],
  controllers: [PaymentsController],
  providers: [PaymentsService, PayerLoader],
})
export class PaymentsModule {}
