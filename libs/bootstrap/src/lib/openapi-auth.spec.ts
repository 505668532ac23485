import { hasRole, Policy, Public, Roles, Scopes } from '@acme/auth';
import { Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { documentAuthRules } from './openapi-auth';

@Roles('user')
@Scopes('things:read')
@Controller('things')
class ThingsController {
  @Get()
  list(): string[] {
    return [];
  }

  @Roles({ all: ['user', 'admin'] })
  @Scopes('things:write')
  @Policy(hasRole('admin'))
  @Post()
  create(): string {
    return 'created';
  }

  @Public() // the spec's public route
  @Get('count')
  count(): number {
    return 0;
  }

  /** Not a route: nothing to document. */
  helper(): string {
    return 'help';
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

async function openApiDocument(): Promise<OpenAPIObject> {
  const app = await NestFactory.create(ThingsModule, new FastifyAdapter(), { logger: false });
  try {
    documentAuthRules([ThingsController]);
    const config = new DocumentBuilder().addBearerAuth().build();
    return SwaggerModule.createDocument(app, config);
  } finally {
    await app.close();
  }
}

describe(documentAuthRules.name, () => {
  it("documents each route's rule, its own decorators over its class's", async () => {
    const { paths } = await openApiDocument();

    expect(paths['/things'].get).toMatchObject({
      security: [{ bearer: [] }],
      'x-required-roles': { anyOf: ['user'] },
      'x-required-scopes': ['things:read'],
    });
    expect(paths['/things'].get).not.toHaveProperty('x-required-policy');
    expect(paths['/things'].post).toMatchObject({
      security: [{ bearer: [] }],
      'x-required-roles': { allOf: ['user', 'admin'] },
      'x-required-scopes': ['things:write'],
      'x-required-policy': hasRole('admin').description,
    });
    // No credentials needed: an empty security requirement.
    expect(paths['/things/count'].get?.security).toEqual([{}]);
  });

  it('documents a route once, however many apps are built in the process', async () => {
    documentAuthRules([ThingsController]);
    const { paths } = await openApiDocument();

    expect(paths['/things'].get?.security).toEqual([{ bearer: [] }]);
    expect(paths['/things/count'].get?.security).toEqual([{}]);
  });
});
