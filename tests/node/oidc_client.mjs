// A second, independent relying party: panva's certified openid-client
// (Node) runs the authorization code flow against a live Gatehouse. The
// person's browser is played with fetch and a cookie jar. Prints one JSON
// line with what it verified; any failure throws (non-zero exit).
// Environment: GH_ISSUER, GH_CLIENT_ID, GH_CLIENT_SECRET, GH_USER,
// GH_PASSWORD, GH_REDIRECT.
import * as client from 'openid-client';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const issuer = env('GH_ISSUER');
const redirect = env('GH_REDIRECT');

// The client is registered for client_secret_basic, and Gatehouse holds
// clients to their registered method.
const secret = env('GH_CLIENT_SECRET');
const config = await client.discovery(new URL(issuer), env('GH_CLIENT_ID'), secret, client.ClientSecretBasic(secret), {
  execute: [client.allowInsecureRequests], // the test server is plain http on loopback
});

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirect,
  scope: 'openid profile email',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});

// The browser: follows nothing by itself, keeps cookies.
const jar = new Map();
async function go(url, init = {}) {
  const headers = new Headers(init.headers || {});
  if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return res;
}
const field = (html, name) => {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!m) throw new Error(`no ${name} field`);
  return m[1].replace(/&#(\d+);/g, (_, d) => String.fromCharCode(Number(d))).replace(/&amp;/g, '&');
};
const post = (path, form) =>
  go(new URL(path, issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });

let res = await go(authUrl);
if (res.status !== 200) throw new Error(`login page: ${res.status}`);
let html = await res.text();
res = await post('/login', {
  csrf: field(html, 'csrf'),
  request: field(html, 'request'),
  username: env('GH_USER'),
  password: env('GH_PASSWORD'),
});
if (res.status !== 303) throw new Error(`login: ${res.status}`);
res = await go(new URL(res.headers.get('location'), issuer));
if (res.status === 200) {
  html = await res.text();
  res = await post('/consent', { csrf: field(html, 'csrf'), request: field(html, 'request'), decision: 'allow' });
}
if (res.status !== 303) throw new Error(`consent: ${res.status}`);
const callback = new URL(res.headers.get('location'));

// The library checks state, iss (RFC 9207), the code exchange, the ID
// token's signature against the JWKS, nonce, aud, exp and at_hash.
const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
console.log(JSON.stringify({ sub: claims.sub, userinfo_sub: info.sub, email: info.email, preferred_username: claims.preferred_username }));
