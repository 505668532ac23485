import './tracing';
import { createHttpApp } from '@acme/bootstrap/http';
import { AppModule } from './app.module';
import type { GatewayConfig } from './config';

void createHttpApp<GatewayConfig>(AppModule, {
  globalPrefix: 'api',
  openApi: { title: 'acme gateway' },
});
