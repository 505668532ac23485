import { Controller, Get } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuthModule } from './auth.module';
import { DEFAULT_AUTH_OPTIONS } from './auth.options';
import type { AuthOptions } from './auth.options';
import { Roles } from './decorators/auth.decorators';

@Controller('orders')
class OrdersController {
  @Get()
  @Roles('admin')
  list(): string[] {
    return [];
  }
}

const options: AuthOptions = {
  ...DEFAULT_AUTH_OPTIONS,
  issuer: 'http://127.0.0.1:9', // never reached: no token is ever verified here
  audience: 'urn:acme:orders',
  serviceName: 'order',
  trustDomain: 'acme.internal',
};

/** Status of `GET /orders` without a token, in an app whose AuthModule has `auth`. */
async function statusWithoutToken(auth: AuthOptions): Promise<number> {
  const moduleRef = await Test.createTestingModule({
    imports: [AuthModule.forRootAsync({ useFactory: () => auth })],
    controllers: [OrdersController],
  }).compile();
  const app: INestApplication = moduleRef.createNestApplication(new FastifyAdapter(), {
    logger: false,
  });
  await app.listen(0, '127.0.0.1');
  try {
    return (await fetch(`${await app.getUrl()}/orders`)).status;
  } finally {
    await app.close();
  }
}

describe(AuthModule.name, () => {
  it('denies by default: a route without @Public() needs a token', async () => {
    await expect(statusWithoutToken(options)).resolves.toBe(401);
  });

  it('installs no guard at all in a benchmark without security (benchmarkInsecure)', async () => {
    await expect(statusWithoutToken({ ...options, benchmarkInsecure: true })).resolves.toBe(200);
  });
});
