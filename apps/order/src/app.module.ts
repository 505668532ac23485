import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AuthModule } from '@acme/auth';
import { authOptionsFrom } from '@acme/bootstrap';
import { SERVICE_NAME, validateOrderEnv } from './config';
import type { OrderConfig } from './config';
import { OrdersModule } from './orders/orders.module';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: validateOrderEnv }),
    AuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<OrderConfig, true>) => authOptionsFrom(config, SERVICE_NAME),
    }),
    OrdersModule,
  ],
})
export class AppModule {}
