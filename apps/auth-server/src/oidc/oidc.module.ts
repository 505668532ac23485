import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { RedisModule } from '../redis/redis.module';
import { REDIS_CLIENT } from '../redis/redis.constants';
import { UsersModule } from '../users/users.module';
import { UsersService } from '../users/users.service';
import { createOidcProvider } from './oidc-provider.factory';
import { OIDC_PROVIDER } from './oidc.constants';

/** Provides the oidc-provider instance; app.factory.ts mounts it in front of the Nest routes. */
@Module({
  imports: [RedisModule, UsersModule],
  providers: [
    {
      provide: OIDC_PROVIDER,
      inject: [ConfigService, UsersService, REDIS_CLIENT],
      useFactory: createOidcProvider,
    },
  ],
  exports: [OIDC_PROVIDER],
})
export class OidcModule {}
