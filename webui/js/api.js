// The JSON API under /api/v1: the CSRF token of the session (sessionStorage)
// sent with every change, errors as ApiError, and a 401 told to the listeners
// (the frame goes to activation or to the login page).
const BASE = '/api/v1/';
const CSRF_KEY = 'thermocam.csrf';
const lostListeners = [];

export class ApiError extends Error {
  constructor(status, code, message, field, headers) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
    this.field = field || null;
    this.headers = headers;
  }
}

export function setCsrf(token) {
  if (token)
    sessionStorage.setItem(CSRF_KEY, token);
  else
    sessionStorage.removeItem(CSRF_KEY);
}

export function onAuthLost(fn) { lostListeners.push(fn); }

export function authLost(err) {
  for (const fn of lostListeners)
    fn(err);
}

// api('GET', 'rules') -> parsed JSON (a Blob for other content, null for 204);
// opts.quiet: a 401 is only thrown, not told to the frame
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined)
    headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const token = sessionStorage.getItem(CSRF_KEY);
    if (token)
      headers['X-CSRF-Token'] = token;
  }
  let r;
  try {
    r = await fetch(BASE + path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: opts.signal,
    });
  } catch (e) {
    throw new ApiError(0, 'network', e.message);
  }
  if (!r.ok) {
    let e = {};
    try {
      e = (await r.json()).error || {};
    } catch { /* not JSON */ }
    const err = new ApiError(r.status, e.code, e.message, e.field, r.headers);
    err.detail = e;
    if (r.status === 401 && !opts.quiet)
      authLost(err);
    throw err;
  }
  if (r.status === 204)
    return null;
  if ((r.headers.get('Content-Type') || '').includes('application/json'))
    return r.json();
  return r.blob();
}
