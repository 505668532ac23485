import './tracing';
import { createMicroservice } from '@acme/bootstrap';
import { AppModule } from './app.module';

void createMicroservice(AppModule);
