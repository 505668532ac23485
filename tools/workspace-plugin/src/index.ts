export { microserviceGenerator } from './generators/microservice/generator';
export type { MicroserviceGeneratorSchema } from './generators/microservice/schema';
export { eventGenerator } from './generators/event/generator';
export type { EventGeneratorSchema } from './generators/event/schema';
