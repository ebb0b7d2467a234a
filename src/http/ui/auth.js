// The operator's token for masters with --credentials (docs/security.md: a token is a
// principal's secret). Typed into the login form (app.js), kept in this tab's sessionStorage
// (gone when the tab closes; never in the URL, a cookie or localStorage), and sent as
// `Authorization: Bearer` on every call (api.js). A 401 forgets it and brings the form back.
// In Node (the UI tests load api.js there) there is no sessionStorage: the token lives in memory.
const storageKey = 'flotilla-token';

function storage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    // A browser that refuses storage (privacy settings): memory only, a reload asks again.
    return null;
  }
}

let token = storage()?.getItem(storageKey) ?? null;
const listeners = new Set();

/** The header every call carries: the token as Bearer, or none before anyone logged in. */
export function authorizationHeaders() {
  return token === null ? {} : { authorization: `Bearer ${token}` };
}

export function setToken(value) {
  token = value;
  storage()?.setItem(storageKey, value);
}

/**
 * A master answered 401: the token is missing or wrong. Forgets it and tells the listeners
 * (the login form), with whether a token had been sent (then it was refused).
 */
export function loginRequired() {
  const refused = token !== null;
  token = null;
  storage()?.removeItem(storageKey);
  for (const listener of listeners) listener({ refused });
}

export function onLoginRequired(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
