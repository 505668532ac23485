import {
  BadRequestException,
  Body,
  Catch,
  Controller,
  ForbiddenException,
  Get,
  HttpException,
  Param,
  Post,
  Req,
  Res,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { errors } from 'oidc-provider';
import { z } from 'zod';
import { NEST_ROUTES } from '../app.constants';
import { csrfCookie, csrfTokenMatches, issueCsrfToken } from './csrf';
import { InteractionService, type LoginFailure } from './interaction.service';
import { PAGE_HEADERS, renderErrorPage, renderLoginPage } from './pages';

const loginFormSchema = z.object({
  csrf: z.string(),
  username: z.string().trim().max(64),
  password: z.string().max(1024),
});

const FAILURE_MESSAGES: Record<LoginFailure['reason'], string> = {
  // One message for an unknown user and a wrong password, so the form does not reveal who exists.
  invalid_credentials: 'Wrong user name or password.',
  locked: 'Too many failed sign-ins. Try again later.',
  busy: 'The server is busy. Try again in a moment.',
};

/** Renders oidc-provider's errors (e.g. an expired interaction) and ours as an error page. */
@Catch(errors.OIDCProviderError, HttpException)
class InteractionErrorFilter implements ExceptionFilter {
  catch(error: errors.OIDCProviderError | HttpException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const [status, message] =
      error instanceof HttpException
        ? [error.getStatus(), error.message]
        : [error.statusCode, error.error_description ?? error.message];
    res.status(status).set(PAGE_HEADERS).send(renderErrorPage('Sign-in failed', message));
  }
}

/** The sign-in page oidc-provider sends the browser to (`interactions.url`). */
@Controller(NEST_ROUTES.interaction)
@UseFilters(InteractionErrorFilter)
export class InteractionController {
  constructor(private readonly interactions: InteractionService) {}

  @Get(':uid')
  async show(@Param('uid') uid: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const interaction = await this.interactions.find(uid, req, res);
    if (interaction.prompt.name === 'consent') {
      return this.interactions.grantConsent(req, res, interaction);
    }
    const csrfToken = issueCsrfToken(res, `/${NEST_ROUTES.interaction}/${uid}`);
    res.set(PAGE_HEADERS).send(
      renderLoginPage({
        action: `/${NEST_ROUTES.interaction}/${uid}/login`,
        csrfToken,
        clientName: await this.interactions.clientName(interaction),
      }),
    );
  }

  @Post(':uid/login')
  async login(
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const interaction = await this.interactions.find(uid, req, res);
    const form = loginFormSchema.safeParse(body);
    if (!form.success) throw new BadRequestException('Malformed sign-in form.');
    if (!csrfTokenMatches(csrfCookie(req), form.data.csrf)) {
      throw new ForbiddenException('The sign-in form expired. Start again.');
    }
    if (interaction.prompt.name !== 'login') throw new BadRequestException('Already signed in.');

    const failure = await this.interactions.login(req, res, form.data);
    if (!failure) return;
    if (failure.reason !== 'invalid_credentials') {
      res.status(429).set('Retry-After', String(failure.retryAfterSeconds));
    } else {
      res.status(401);
    }
    res.set(PAGE_HEADERS).send(
      renderLoginPage({
        action: `/${NEST_ROUTES.interaction}/${uid}/login`,
        csrfToken: form.data.csrf,
        clientName: await this.interactions.clientName(interaction),
        username: form.data.username,
        error: FAILURE_MESSAGES[failure.reason],
      }),
    );
  }
}
