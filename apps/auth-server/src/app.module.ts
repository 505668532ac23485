import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { LoggingModule } from '@acme/bootstrap';
import { SERVICE_NAME, type AuthServerConfig } from './config';
import { HealthController } from './health/health.controller';
import { InteractionModule } from './interaction/interaction.module';
import { OidcModule } from './oidc/oidc.module';

@Module({})
export class AppModule {
  /** The app for an already validated configuration (see config.ts). */
  static forRoot(config: AuthServerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // config.ts has read and validated the environment; ConfigService only serves the result.
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          validatePredefined: false,
          skipProcessEnv: true,
          load: [() => config],
        }),
        LoggingModule.forRoot(SERVICE_NAME),
        OidcModule,
        InteractionModule,
      ],
      controllers: [HealthController],
    };
  }
}
