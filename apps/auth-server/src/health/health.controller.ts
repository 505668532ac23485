import { Controller, Get, HttpCode } from '@nestjs/common';
import { NEST_ROUTES } from '../app.constants';

/** Liveness probe: the process serves HTTP. */
@Controller(NEST_ROUTES.health)
export class HealthController {
  @Get()
  @HttpCode(200)
  check(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
