import { Controller, Get } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Public } from '@acme/auth';
import type { GatewayConfig } from '../config';

@Controller('public')
export class PublicInfoController {
  constructor(private readonly config: ConfigService<GatewayConfig, true>) {}

  /** Public: tells a client where to get a token, which it cannot have yet. */
  @Public()
  @Get('info')
  info(): { name: string; issuer: string; audience: string } {
    return {
      name: 'acme secure microservices',
      issuer: this.config.get('AUTH_ISSUER', { infer: true }),
      audience: this.config.get('AUTH_AUDIENCE', { infer: true }),
    };
  }
}
