// The OpenID provider of the tests: node-oidc-provider on 127.0.0.1, configured by the JSON
// file named on the command line (tests/oidc/provider.py writes it): the issuer and port, the
// service's client, the signing key, and the people who may sign in (devInteractions: any
// password; the login name picks the person).
//
// For the tests of what the service refuses, POST /__test__/tamper {"claims": {...}} makes the
// next ID token carry those claims instead (signed again with the same key), and
// {"replay": true} hands out the previous ID token again.
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const key = createPrivateKey({ key: settings.jwk, format: 'jwk' });
let tamper = null;
let previous = null;

const provider = new Provider(settings.issuer, {
  clients: [settings.client],
  jwks: { keys: [settings.jwk] },
  cookies: { keys: ['test-cookie-key'] },
  claims: {
    openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'],
  },
  conformIdTokenClaims: false, // the claims in the ID token itself, as Entra ID puts them
  features: { devInteractions: { enabled: true } },
  findAccount: async (ctx, sub) => {
    const person = settings.people[sub];
    if (!person) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...person }) };
  },
});

function signedAgain(token, claims) {
  const [header, payload] = token.split('.');
  const changed = { ...JSON.parse(Buffer.from(payload, 'base64url')), ...claims };
  const input = `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), key).toString('base64url')}`;
}

async function readBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test__/tamper' && ctx.method === 'POST') {
    tamper = JSON.parse(await readBody(ctx.req));
    ctx.status = 204;
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.body && ctx.body.id_token) {
    const issued = ctx.body.id_token;
    if (tamper && tamper.claims) ctx.body.id_token = signedAgain(issued, tamper.claims);
    if (tamper && tamper.replay && previous) ctx.body.id_token = previous;
    tamper = null;
    previous = issued;
  }
});

provider.listen(settings.port, '127.0.0.1', () => console.log('listening'));
