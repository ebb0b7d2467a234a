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

/** The token calls carry now (null before a login): a 401 is about the token its call carried. */
export function tokenInUse() {
  return token;
}

/**
 * A master answered 401 to a call that carried `sentToken` (null: none): the token is missing
 * or wrong. Forgets it and tells the listeners (the login form), with whether a token had been
 * sent (then it was refused). A call sent with another token than the current one says nothing
 * about the current one: a poll sent without a token and answered between the login form's
 * setToken and its reload would otherwise wipe the token just typed, and the reloaded page would
 * ask again without saying why (CI's ui-login test waited 60 s for "refused" at load 8).
 */
export function loginRequired(sentToken) {
  if (sentToken !== token) return;
  const refused = token !== null;
  token = null;
  storage()?.removeItem(storageKey);
  for (const listener of listeners) listener({ refused });
}

export function onLoginRequired(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
