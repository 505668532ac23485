import { BadRequestException } from '@nestjs/common';
import type { ArgumentMetadata } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsString, ValidateNested } from 'class-validator';
import { strictValidationPipe } from './validation.pipe';

class ItemDto {
  @IsString()
  sku!: string;

  @IsInt()
  quantity!: number;
}

class OrderDto {
  @ValidateNested({ each: true })
  @Type(() => ItemDto)
  items!: ItemDto[];
}

const asBody: ArgumentMetadata = { type: 'body', metatype: OrderDto };

/** What the pipe refused `json` with, as JSON.parse (Fastify's or the transport's) hands it over. */
async function refusalOf(json: string): Promise<BadRequestException> {
  const error = await strictValidationPipe()
    .transform(JSON.parse(json), asBody)
    .then(
      () => undefined,
      (reason: unknown) => reason,
    );
  if (error instanceof BadRequestException) return error;
  throw error ?? new Error('the pipe accepted it');
}

describe(strictValidationPipe.name, () => {
  it('hands the handler a DTO of a valid payload', async () => {
    const order = await strictValidationPipe().transform(
      JSON.parse('{"items":[{"sku":"book-1","quantity":2}]}'),
      asBody,
    );
    expect(order).toBeInstanceOf(OrderDto);
    expect(order).toEqual({ items: [{ sku: 'book-1', quantity: 2 }] });
  });

  it('refuses an unknown field, naming it', async () => {
    const error = await refusalOf('{"items":[],"isAdmin":true}');
    expect(JSON.stringify(error.getResponse())).toContain('isAdmin');
  });

  it.each([
    [
      'at the top',
      '{"items":[{"sku":"book-1","quantity":1}],"__proto__":{"isAdmin":true}}',
      '__proto__',
    ],
    [
      'in an item',
      '{"items":[{"sku":"book-1","quantity":1,"__proto__":{"isAdmin":true}}]}',
      '__proto__',
    ],
    [
      'as constructor.prototype',
      '{"items":[],"constructor":{"prototype":{"isAdmin":true}}}',
      'constructor',
    ],
  ])('refuses a key that could poison a prototype, %s', async (_, json, key) => {
    const error = await refusalOf(json);
    expect(error.message).toBe(`a "${key}" key is not accepted anywhere in the input`);
  });

  it('leaves what a custom decorator makes (the caller, a loaded resource) to that decorator', async () => {
    const claims = JSON.parse('{"sub":"alice","constructor":"an IdP claim"}');
    await expect(
      strictValidationPipe().transform(claims, { type: 'custom', metatype: Object }),
    ).resolves.toBe(claims);
  });
});
