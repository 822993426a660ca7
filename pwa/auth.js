// Who is signed in on this phone, and the phone's own id. The device_id is made once
// (crypto.randomUUID) and kept in IndexedDB; signing in binds it to the user's token. Losing the
// token (expired, revoked) never touches the outbox: the app asks to sign in again, then syncs.

import { getMeta, setMeta } from './db.js';
import { signIn as requestToken, setToken } from './api.js';

export const session = { deviceId: null, user: null, expiresAt: null };

export async function load() {
  session.deviceId = await getMeta('device_id');
  if (!session.deviceId) {
    session.deviceId = crypto.randomUUID();
    await setMeta('device_id', session.deviceId);
  }
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
  const answer = await requestToken(username, password, session.deviceId, name);
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
