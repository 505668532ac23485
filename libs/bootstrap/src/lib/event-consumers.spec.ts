import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { startEventConsumers } from './event-consumers';

@Module({})
class WithoutEventsModule {}

describe(startEventConsumers.name, () => {
  it('does nothing for a service that takes no part in events, and does not end the process', async () => {
    // A real app: its get() would exit the process on the missing broker provider.
    const app = await NestFactory.createMicroservice(WithoutEventsModule, {
      transport: Transport.TCP,
      options: { port: 0 },
      logger: false,
    });
    const getHandlers = jest.fn(() => new Map());
    expect(() => startEventConsumers(app, { getHandlers })).not.toThrow();
    expect(getHandlers).not.toHaveBeenCalled();
    await app.close();
  });
});
