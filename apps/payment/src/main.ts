import './tracing';
import { createMicroservice } from '@acme/bootstrap/microservice';
import { AppModule } from './app.module';

void createMicroservice(AppModule);
