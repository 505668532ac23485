export * from './lib/bootstrap.module';
