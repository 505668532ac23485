import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ServiceClientsModule } from '@acme/auth';
import { serviceClientsFrom } from '@acme/bootstrap';
import { FieldCipher } from '@acme/persistence';
import type { PaymentConfig } from '../config';
import { OutboxRelay } from './outbox.relay';
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
    {
      provide: FieldCipher,
      inject: [ConfigService],
      useFactory: (config: ConfigService<PaymentConfig, true>) =>
        FieldCipher.fromFile(config.get('DATA_KEYS_FILE', { infer: true })),
    },
  ],
})
export class PaymentsModule {}
