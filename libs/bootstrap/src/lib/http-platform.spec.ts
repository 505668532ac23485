import { AsyncResource } from 'node:async_hooks';
import { dirname } from 'node:path';
import { Body, Controller, Post } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';

/**
 * What the `overrides` of fastify and find-my-way in package.json hold: Nest 11's
 * fastify adapter pins older versions of both.
 */
describe('the HTTP platform', () => {
  const packageDir = (name: string, from?: string) =>
    dirname(require.resolve(`${name}/package.json`, from ? { paths: [from] } : undefined));

  it('routes and sanitises URLs with one find-my-way: fastify, Nest and its middleware alike', () => {
    const nest = packageDir('@nestjs/platform-fastify');
    const routers = [
      packageDir('find-my-way', packageDir('fastify', nest)),
      packageDir('find-my-way', nest),
      packageDir('find-my-way', packageDir('@fastify/middie', nest)),
    ];
    expect(new Set(routers).size).toBe(1);
  });

  it('reads a request body without binding an AsyncResource (10-30 us a request on node 20)', async () => {
    @Controller()
    class EchoController {
      @Post('echo')
      echo(@Body() body: unknown): unknown {
        return body;
      }
    }
    const moduleRef = await Test.createTestingModule({ controllers: [EchoController] }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const bind = jest.spyOn(AsyncResource.prototype, 'bind');
    try {
      const response = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
      expect(response.json()).toEqual({ a: 1 });
      expect(bind).not.toHaveBeenCalled();
    } finally {
      bind.mockRestore();
      await app.close();
    }
  });
});
