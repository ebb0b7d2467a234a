// The web UI (DESIGN.md "Operating it"): `GET /` is the page and `GET /ui/<file>` its assets,
// static files served by every master, no build step. The files are a fixed allow-list read
// into memory when the server is built: a request names a key in a Map, never a path joined to
// a folder, so no URL (`..`, `%2e%2e`, `%2f`, `\`, NUL) can reach another file.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../errors.ts';

const uiFolder = new URL('../ui/', import.meta.url);

/** Every file the UI has, with its content type. A new file must be added here to be served. */
export const uiAssetTypes: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'model.js': 'text/javascript; charset=utf-8',
  'view.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

export const uiIndexPath = '/';
export const uiAssetPrefix = '/ui/';

/**
 * Scripts and styles from this master only (the machines have no internet, and nothing of the
 * page may come from elsewhere); fetches to this master only; no inline script or style
 * attribute, so text that slipped into markup could not run either.
 */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface UiAsset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

function loadAssets(): Map<string, UiAsset> {
  const assets = new Map<string, UiAsset>();
  for (const [name, contentType] of Object.entries(uiAssetTypes)) {
    // A missing file is a broken checkout: fail at start, not on the first visitor.
    const body = readFileSync(new URL(name, uiFolder));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(name, { body, contentType, etag });
  }
  return assets;
}

/**
 * `no-cache` means "revalidate each time": a master upgraded in place serves its new UI at
 * once, and an unchanged file costs a 304 without a body.
 */
function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: UiAsset): FastifyReply {
  void reply.headers({
    'cache-control': 'no-cache',
    etag: asset.etag,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': contentSecurityPolicy,
  });
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.code(200).header('content-type', asset.contentType).send(asset.body);
}

export function registerUiRoutes(app: FastifyInstance): void {
  const assets = loadAssets();
  const index = assets.get('index.html');
  if (index === undefined) throw new Error('the UI allow-list has no index.html');
  app.get(uiIndexPath, async (request, reply) => sendAsset(request, reply, index));
  app.get<{ Params: { file: string } }>(`${uiAssetPrefix}:file`, async (request, reply) => {
    const asset = assets.get(request.params.file);
    if (asset === undefined) throw new HttpError('NOT_FOUND', `no UI file ${JSON.stringify(request.params.file)}`);
    return sendAsset(request, reply, asset);
  });
}
