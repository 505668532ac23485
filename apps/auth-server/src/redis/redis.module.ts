import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Redis } from 'ioredis';
import type { AuthServerConfig } from '../config';
import { REDIS_CLIENT } from './redis.constants';

/** The Redis client shared by the oidc-provider adapter and the login throttle, when REDIS_URL is set. */
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [ConfigService],
      useFactory: async (config: ConfigService<AuthServerConfig, true>): Promise<Redis | null> => {
        const url = config.get('redisUrl', { infer: true });
        if (!url) return null;
        const redis = new Redis(url, {
          keyPrefix: config.get('redisKeyPrefix', { infer: true }),
          lazyConnect: true,
        });
        const logger = new Logger('Redis');
        redis.on('error', (error: Error) => logger.error(error.message));
        // Fail the start-up, not the first sign-in, when Redis is unreachable.
        await redis.connect().catch((error: unknown) => {
          redis.disconnect();
          throw error;
        });
        return redis;
      },
    },
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.quit();
  }
}
