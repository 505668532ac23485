export { AppProcess, freePort, isListening, WORKSPACE } from './lib/testing/app-process';
