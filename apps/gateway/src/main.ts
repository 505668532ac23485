import { createHttpApp } from '@acme/bootstrap';
import { AppModule } from './app.module';

void createHttpApp(AppModule, { globalPrefix: 'api' });
