// The only module that calls fetch. Problem details (RFC 9457) become ApiErrors marked as permanent
// (the request itself is wrong), transient (try again later), auth (sign in again) or protocol
// (this app version is too old for the server).

import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(message, { status = 0, type = '', reason = '', body = null } = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.reason = reason;
    this.body = body;
  }
  get offline() { return this.status === 0; }
  get auth() { return this.status === 401; }
  get protocol() { return this.status === 409 && this.type.endsWith('/protocol-not-supported'); }
  get transient() { return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500; }
  get permanent() { return !this.transient && !this.auth && !this.protocol; }
}

let token = null;
export function setToken(value) { token = value; }

/** fetch with the bearer token, a timeout, and problem details turned into ApiError. */
export async function request(method, path, { json, body, contentType, timeout = 30_000, auth = true } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  else if (contentType) headers['Content-Type'] = contentType;
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: 'no-store', signal: AbortSignal.timeout(timeout) });
  } catch (error) {
    throw new ApiError(navigator.onLine ? t('api.unreachable', { error: error.name }) : t('net.offline_word'), { status: 0 });
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const problem = data && typeof data === 'object' ? data : {};
    throw new ApiError(problem.detail || problem.title || `HTTP ${response.status}`, {
      status: response.status, type: problem.type || '', reason: problem.reason || '', body: problem,
    });
  }
  return data;
}

export const post = (path, json, options) => request('POST', path, { ...options, json });
export const get = (path, options) => request('GET', path, options);

/** Sign in; the token is bound to this device, which the device's secret proves. */
export function signIn(username, password, deviceId, deviceSecret, deviceName) {
  const body = { username, password, device_id: deviceId, device_secret: deviceSecret, device_name: deviceName };
  return post('/api/auth/token', body, { auth: false });
}

/** Send one camera frame (JPEG) to the server's decoder. */
export function decodeFrame(blob) {
  return request('POST', '/api/decode', { body: blob, contentType: blob.type || 'image/jpeg', timeout: 8000 });
}

/** What the server knows about a scanned code (online only). */
export function describeCode(code) {
  return get(`/api/scan?code=${encodeURIComponent(code)}`, { timeout: 5000 });
}

export function unitHistory(serial) {
  return get(`/api/units/${encodeURIComponent(serial)}/history`, { timeout: 5000 });
}

/** The traceability report of a unit ({serial}) or a lot ({part, lot}) (online only). */
export function trace(query) {
  return get(`/api/trace?${new URLSearchParams(query)}`, { timeout: 8000 });
}
