// The tests' OpenID Connect provider (oidc-provider, an ES module), built outside Jest's module
// registry with Node's own require, as client-node-native.js explains. Its configuration is made
// here too: oidc-provider merges it with its defaults only when it is made of this realm's plain
// objects, which Jest's are not. Everything passed in is copied through JSON for that reason.
const nodeModule = process.getBuiltinModule('node:module');

const Provider = nodeModule.createRequire(__filename)('oidc-provider').default;

const SCOPES = 'openid email profile groups offline_access';

/**
 * A provider for `issuer` with one public client allowed the device flow and refresh tokens, the
 * given users (id → { email, name, groups }) and signing key (a private JWK). Interactions go to
 * /interaction/<uid>, which the caller serves; every user has consented to the client already.
 */
function createTestProvider(issuer, options) {
  const { clientId, users, signingJwk } = JSON.parse(JSON.stringify(options));
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: [signingJwk] },
    cookies: { keys: ['tollgate-test-cookie-key-0123456789'] },
    features: { deviceFlow: { enabled: true }, devInteractions: { enabled: false } },
    scopes: SCOPES.split(' '),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    // People's claims in the ID token itself, which is what Tollgate verifies.
    conformIdTokenClaims: false,
    ttl: {
      IdToken: 600,
      AccessToken: 600,
      RefreshToken: 3600,
      DeviceCode: 600,
      Grant: 3600,
      Session: 3600,
      Interaction: 600,
    },
    findAccount: (_ctx, id) => {
      const user = users[id];
      if (!user) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, email: user.email, email_verified: true, name: user.name, groups: user.groups }),
      };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    loadExistingGrant: async (ctx) => {
      const grant = new provider.Grant({ accountId: ctx.oidc.session.accountId, clientId: ctx.oidc.client.clientId });
      grant.addOIDCScope(SCOPES);
      await grant.save();
      return grant;
    },
  });
  return provider;
}

module.exports = { createTestProvider };
