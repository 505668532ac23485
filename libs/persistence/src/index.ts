export { openDatabase } from './lib/database';
export type { Database, DatabaseOptions, OpenDatabase, SqlRunner } from './lib/database';
export { migrate } from './lib/migrations';
export type { Migration } from './lib/migrations';
export { DATABASE, PersistenceModule } from './lib/persistence.module';
export type { PersistenceOptions } from './lib/persistence.module';
export { FieldCipher } from './lib/field-cipher';
export type { DataKeys, FieldRef } from './lib/field-cipher';
