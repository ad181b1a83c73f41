import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { required } from '../../src/domain/required';

/**
 * A real OpenID Connect provider on loopback (the `oidc-provider` package 8.x, for Node 20; certified by the
 * OpenID Foundation), with test users and their groups: discovery, JWKS, the device authorization
 * grant, refresh tokens. `approveDevice` plays the person who opens the verification page in a
 * browser, enters the code and logs in.
 */
export interface TestUser {
  email: string;
  name: string;
  groups: string[];
}

export const CLI_CLIENT_ID = 'tollgate-cli';

/** Made by oidc-provider-native.js, outside Jest's module registry (see there why). */
interface OidcProvider {
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  interactionFinished(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    result: Record<string, unknown>,
    options?: Record<string, unknown>,
  ): Promise<void>;
}

function createTestProvider(
  issuer: string,
  options: { clientId: string; users: Record<string, TestUser>; signingJwk: JWK },
): OidcProvider {
  const nodeModule = process.getBuiltinModule('node:module');
  const loaded = nodeModule.createRequire(__filename)('./oidc-provider-native.js') as {
    createTestProvider: typeof createTestProvider;
  };
  return loaded.createTestProvider(issuer, options);
}

export class TestOidcIssuer {
  issuer = '';
  private server?: http.Server;
  private privateJwk?: JWK & { kid: string };
  private signingKey?: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  /** Who logs in at the next interaction (the person at the browser). */
  private nextLogin?: string;

  constructor(private readonly users: Record<string, TestUser>) {}

  async start(): Promise<this> {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    this.signingKey = privateKey;
    this.privateJwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
    this.server = http.createServer();
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const provider = createTestProvider(this.issuer, {
      clientId: CLI_CLIENT_ID,
      users: this.users,
      signingJwk: this.privateJwk,
    });
    const handle = provider.callback();
    this.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.url?.startsWith('/interaction/')) {
        const accountId = this.nextLogin;
        if (!accountId) return void res.writeHead(400).end('nobody is logging in');
        void provider
          .interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false })
          .catch((err: Error) => res.writeHead(500).end(err.message));
        return;
      }
      handle(req, res);
    });
    return this;
  }

  /**
   * The person at the browser: opens the verification page, enters the code the CLI printed,
   * confirms it and logs in as `accountId`.
   */
  async approveDevice(userCode: string, accountId: string): Promise<void> {
    this.nextLogin = accountId;
    const cookies = new Map<string, string>();
    const request = async (url: string, init: RequestInit = {}): Promise<Response> => {
      const response = await fetch(new URL(url, this.issuer), {
        ...init,
        redirect: 'manual',
        headers: {
          ...(init.headers as Record<string, string>),
          cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        },
      });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair] = cookie.split(';');
        const at = pair.indexOf('=');
        cookies.set(pair.slice(0, at), pair.slice(at + 1));
      }
      return response;
    };
    const xsrfOf = (html: string) => /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const post = (fields: Record<string, string>) =>
      request('/device', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    const form = await (await request('/device')).text();
    const confirm = await (await post({ xsrf: xsrfOf(form), user_code: userCode })).text();
    let response = await post({ xsrf: xsrfOf(confirm), user_code: userCode, confirm: 'yes' });
    for (let hops = 0; response.status >= 300 && response.status < 400 && hops < 10; hops++) {
      response = await request(response.headers.get('location') ?? '/');
    }
    const page = await response.text();
    if (response.status !== 200 || !/success|signed in|sign-in|logged in/i.test(page))
      throw new Error(`the device login did not complete (${response.status}): ${page.slice(0, 500)}`);
  }

  /** A token signed with the issuer's own key but with the claims a test chooses (expired, another audience, another issuer). */
  async mintIdToken(
    accountId: string,
    overrides: { audience?: string; issuer?: string; expiresAt?: number } = {},
  ): Promise<string> {
    const user = this.users[accountId];
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ email: user.email, email_verified: true, name: user.name, groups: user.groups })
      .setProtectedHeader({ alg: 'RS256', kid: this.privateJwk?.kid })
      .setIssuer(overrides.issuer ?? this.issuer)
      .setAudience(overrides.audience ?? CLI_CLIENT_ID)
      .setSubject(accountId)
      .setIssuedAt(now - 60)
      .setExpirationTime(overrides.expiresAt ?? now + 600)
      .sign(required(this.signingKey, 'the signing key (start() first)'));
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
