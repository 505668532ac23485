// Apart from the main entry point, so that the gateway never loads the broker client or the database.
export { createMicroservice } from './lib/create-microservice';
