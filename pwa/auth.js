// Who is signed in on this phone, and the phone's own id and secret. The device_id (crypto.randomUUID)
// and the device secret (256 random bits) are made once, together, and kept in IndexedDB with the
// queue; every sign-in sends both, and the server binds the device only to a sign-in that holds the
// secret (it keeps only its hash), so knowing the id is not enough to take the device over. Losing the
// token (expired, revoked) never touches the outbox: the app asks to sign in again, then syncs.

import { write, getMeta, setMeta } from './db.js';
import { signIn as requestToken, setToken } from './api.js';

export const session = { deviceId: null, user: null, expiresAt: null };
let deviceSecret = null;

/** 32 bytes from crypto.getRandomValues, base64url. */
function newSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The device's id and secret, made in one transaction the first time (a phone from before device
 *  secrets keeps its id and gets a secret, which its next sign-in registers). */
function deviceIdentity() {
  return write(['meta'], async (t) => {
    let id = await t.get('meta', 'device_id');
    let secret = await t.get('meta', 'device_secret');
    if (!id) { id = crypto.randomUUID(); await t.put('meta', id, 'device_id'); }
    if (!secret) { secret = newSecret(); await t.put('meta', secret, 'device_secret'); }
    return { id, secret };
  });
}

export async function load() {
  const device = await deviceIdentity();
  session.deviceId = device.id;
  deviceSecret = device.secret;
  const auth = await getMeta('auth');
  if (auth) {
    setToken(auth.token);
    session.user = auth.user;
    session.expiresAt = auth.expires_at ? Date.parse(auth.expires_at) : null;
  }
  return session;
}

/** The username last signed in, for the re-sign-in form. */
export async function lastUsername() {
  return (await getMeta('auth'))?.user?.username ?? (await getMeta('last_username')) ?? '';
}

export async function signIn(username, password) {
  const name = `${navigator.userAgentData?.platform || navigator.platform || 'phone'} ${session.deviceId.slice(0, 8)}`;
  const answer = await requestToken(username, password, session.deviceId, deviceSecret, name);
  await setMeta('auth', { token: answer.access_token, user: answer.user, expires_at: answer.expires_at });
  await setMeta('last_username', answer.user.username);
  setToken(answer.access_token);
  session.user = answer.user;
  session.expiresAt = answer.expires_at ? Date.parse(answer.expires_at) : null;
  return session;
}

/** Sign out: forget the token only. Queued work stays and syncs after the next sign-in. */
export async function signOut() {
  await setMeta('auth', null);
  setToken(null);
  session.user = null;
}

export const expired = () => session.expiresAt != null && session.expiresAt <= Date.now();
