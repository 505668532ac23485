import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ServiceClientsModule } from '@acme/auth';
import { serviceClientsFrom } from '@acme/bootstrap';
import { OUTBOX_DIRECT_DELIVERY, OutboxRelay } from '@acme/events';
import { FieldCipher } from '@acme/persistence';
import type { PaymentConfig } from '../config';
import { PaymentCompletedDelivery } from './payment-completed.delivery';
import { PayerLoader } from './payer.loader';
import { PaymentsController } from './payments.controller';
import { PaymentsService } from './payments.service';

@Module({
  imports: [
    ServiceClientsModule.registerAsync({
      services: ['order'],
      inject: [ConfigService],
      useFactory: (config: ConfigService<PaymentConfig, true>) =>
        serviceClientsFrom(config, ['order']),
    }),
  ],
  controllers: [PaymentsController],
  providers: [
    PaymentsService,
    PayerLoader,
    OutboxRelay,
    { provide: OUTBOX_DIRECT_DELIVERY, useClass: PaymentCompletedDelivery },
    {
      provide: FieldCipher,
      inject: [ConfigService],
      useFactory: (config: ConfigService<PaymentConfig, true>) =>
        FieldCipher.fromFile(config.get('DATA_KEYS_FILE', { infer: true })),
    },
  ],
})
export class PaymentsModule {}
