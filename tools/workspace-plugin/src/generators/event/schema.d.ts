export interface EventGeneratorSchema {
  name: string;
  producer: string;
  consumer: string;
  skipFormat?: boolean;
}
