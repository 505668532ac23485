import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ServiceClientsModule } from '@acme/auth';
import { serviceClientsFrom } from '@acme/bootstrap';
import type { OrderConfig } from '../config';
import { OrderOwnerLoader } from './order-owner.loader';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

@Module({
  imports: [
    ServiceClientsModule.registerAsync({
      services: ['payment'],
      inject: [ConfigService],
      useFactory: (config: ConfigService<OrderConfig, true>) =>
        serviceClientsFrom(config, ['payment']),
    }),
  ],
  controllers: [OrdersController],
  providers: [OrdersService, OrderOwnerLoader],
})
export class OrdersModule {}
