import { Module } from '@nestjs/common';
import { OidcModule } from '../oidc/oidc.module';
import { RedisModule } from '../redis/redis.module';
import { UsersModule } from '../users/users.module';
import { InteractionController } from './interaction.controller';
import { InteractionService } from './interaction.service';
import { LoginThrottleService } from './login-throttle.service';

@Module({
  imports: [OidcModule, RedisModule, UsersModule],
  controllers: [InteractionController],
  providers: [InteractionService, LoginThrottleService],
})
export class InteractionModule {}
