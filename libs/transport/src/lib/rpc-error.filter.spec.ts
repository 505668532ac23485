import { BadRequestException, ForbiddenException, HttpException, Logger } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { RpcException } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { RpcErrorBody } from './rpc-error';
import { RpcErrorFilter } from './rpc-error.filter';

function hostOfType(type: 'rpc' | 'http'): ArgumentsHost {
  const host = new ExecutionContextHost([{}, {}]);
  host.setType(type);
  return host;
}

describe(RpcErrorFilter.name, () => {
  const filter = new RpcErrorFilter();
  let logged: jest.SpyInstance;

  /** The body the caller receives for an exception thrown by a message handler. */
  async function answerTo(exception: unknown): Promise<unknown> {
    return lastValueFrom(filter.catch(exception, hostOfType('rpc'))).then(
      () => {
        throw new Error('the filter did not answer with an error');
      },
      (body: unknown) => body,
    );
  }

  beforeEach(() => {
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('keeps the status and the error code of an HTTP exception', async () => {
    const exception = new ForbiddenException({
      statusCode: 403,
      error: 'insufficient_scope',
      message: 'requires scope: x',
    });

    await expect(answerTo(exception)).resolves.toEqual({
      status: 403,
      error: 'insufficient_scope',
      message: 'requires scope: x',
    });
  });

  it('keeps the list of messages of a validation error', async () => {
    const exception = new BadRequestException([
      'amount must be positive',
      'currency must be ISO 4217',
    ]);

    await expect(answerTo(exception)).resolves.toEqual({
      status: 400,
      error: 'Bad Request',
      message: ['amount must be positive', 'currency must be ISO 4217'],
    });
  });

  it('names the exception class when an HTTP exception has a plain string body', async () => {
    await expect(answerTo(new HttpException('gone', 410))).resolves.toEqual({
      status: 410,
      error: 'HttpException',
      message: 'gone',
    });
  });

  it('passes an RpcException that carries an error body unchanged', async () => {
    const body: RpcErrorBody = { status: 409, error: 'conflict', message: 'order already paid' };

    await expect(answerTo(new RpcException(body))).resolves.toEqual(body);
  });

  it.each([
    ['an unexpected Error', new Error('connect ECONNREFUSED postgres://app:s3cret@db:5432')],
    [
      'an RpcException without an error body',
      new RpcException('connect ECONNREFUSED postgres://app:s3cret@db:5432'),
    ],
    ['a thrown string', 'postgres://app:s3cret@db:5432'],
  ])(
    'answers %s with a generic 500, and logs the details instead of sending them',
    async (_case, exception) => {
      const body = await answerTo(exception);

      expect(body).toEqual({
        status: 500,
        error: 'internal_error',
        message: 'Internal server error',
      });
      expect(JSON.stringify(body)).not.toContain('s3cret');
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('s3cret'));
    },
  );

  it('rethrows outside of RPC, leaving HTTP errors to the HTTP filters', () => {
    const exception = new ForbiddenException();

    expect(() => filter.catch(exception, hostOfType('http'))).toThrow(exception);
  });
});
