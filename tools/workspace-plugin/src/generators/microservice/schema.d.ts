export interface MicroserviceGeneratorSchema {
  name: string;
  http?: boolean;
  callers?: string;
  port?: number;
  audience?: string;
  skipFormat?: boolean;
}
