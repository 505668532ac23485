import { createHash } from 'node:crypto';

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}' +
  'label,input,button{display:block;width:100%;box-sizing:border-box;margin-top:.5rem}' +
  'button{margin-top:1.5rem}[role=alert]{color:#b00020}';

/**
 * Headers of every page: not cached, not framed (clickjacking), and no script at all. There is no
 * `form-action`, because browsers apply it to the redirects that follow the post, which end at the
 * client's redirect_uri.
 */
export const PAGE_HEADERS = {
  'Cache-Control': 'no-store',
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; frame-ancestors 'none'; base-uri 'none'`,
};

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ESCAPES[character]);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

export interface LoginPage {
  action: string;
  csrfToken: string;
  clientName: string;
  username?: string;
  error?: string;
}

/** The sign-in form. The tools/token command reads its `form` action and hidden inputs. */
export function renderLoginPage({
  action,
  csrfToken,
  clientName,
  username = '',
  error,
}: LoginPage): string {
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to ${escapeHtml(clientName)}</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required value="${escapeHtml(username)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

/** An error the browser cannot be sent back to the client with (unknown client, bad redirect_uri ...). */
export function renderErrorPage(error: string, description = ''): string {
  return page(
    'Sign-in error',
    `<h1>Sign-in error</h1>
<p role="alert">${escapeHtml(error)}${description ? `: ${escapeHtml(description)}` : ''}</p>`,
  );
}
