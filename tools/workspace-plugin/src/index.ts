export { microserviceGenerator } from './generators/microservice/generator';
export type { MicroserviceGeneratorSchema } from './generators/microservice/schema';
