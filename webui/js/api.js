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

// the Response of a request to the API (any body: JSON text, a file, a
// FormData), or an ApiError thrown: the CSRF token sent with every change;
// opts.contentType, opts.accept, opts.signal; opts.quiet: a 401 is only
// thrown, not told to the frame
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: opts.accept || 'application/json' };
  if (opts.contentType)
    headers['Content-Type'] = opts.contentType;
  if (method !== 'GET' && method !== 'HEAD') {
    const token = sessionStorage.getItem(CSRF_KEY);
    if (token)
      headers['X-CSRF-Token'] = token;
  }
  let r;
  try {
    r = await fetch(BASE + path, {
      method, headers, body, credentials: 'same-origin', cache: 'no-store', signal: opts.signal,
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
  return r;
}

// api('GET', 'rules') -> parsed JSON (a Blob for other content, null for 204)
export async function api(method, path, body, opts = {}) {
  const r = await request(method, path, body !== undefined ? JSON.stringify(body) : undefined,
    { ...opts, contentType: body !== undefined ? 'application/json' : undefined });
  if (r.status === 204)
    return null;
  if ((r.headers.get('Content-Type') || '').includes('application/json'))
    return r.json();
  return r.blob();
}
