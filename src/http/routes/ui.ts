// The web UI (DESIGN.md "Operating it"): `GET /` is the page and `GET /ui/<file>` its assets,
// static files served by every master, no build step. The files are a fixed allow-list read
// into memory when the server is built: a request names a key in a Map, never a path joined to
// a folder, so no URL (`..`, `%2e%2e`, `%2f`, `\`, NUL) can reach another file. The chart
// library comes from node_modules the same way (the machines have no internet, so no CDN).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../errors.ts';
import type { MasterCore } from '../../master/interface.ts';
import { memberOrigins, webScheme } from '../member-origins.ts';

const uiFolder = new URL('../ui/', import.meta.url);
const resolvePackageFile = createRequire(import.meta.url).resolve;

const javascript = 'text/javascript; charset=utf-8';
const css = 'text/css; charset=utf-8';

/** Every file the UI has, with its content type. A new file must be added here to be served. */
export const uiAssetTypes: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'style.css': css,
  'app.js': javascript,
  'api.js': javascript,
  'auth.js': javascript,
  'recordio.js': javascript,
  'connection.js': javascript,
  'leader-finder.js': javascript,
  'store.js': javascript,
  'task-rows.js': javascript,
  'task-states.js': javascript,
  'resources.js': javascript,
  'format.js': javascript,
  'series.js': javascript,
  'sampler.js': javascript,
  'cluster-poller.js': javascript,
  'log-follower.js': javascript,
  'dom.js': javascript,
  'widgets.js': javascript,
  'virtual-table.js': javascript,
  'charts.js': javascript,
  'pages.js': javascript,
  'page-cluster.js': javascript,
  'page-agents.js': javascript,
  'page-agent.js': javascript,
  'page-frameworks.js': javascript,
  'page-tasks.js': javascript,
  'page-task.js': javascript,
  'page-allocation.js': javascript,
  'page-services.js': javascript,
  'page-jobs.js': javascript,
  'framework-poll.js': javascript,
  'uplot.js': javascript,
  'uplot.css': css,
};

/** Allow-listed names served from an npm package instead of src/http/ui/ (uPlot, MIT). */
export const uiVendorFiles: Readonly<Record<string, string>> = {
  'uplot.js': 'uplot/dist/uPlot.esm.js',
  'uplot.css': 'uplot/dist/uPlot.min.css',
};

export const uiIndexPath = '/';
export const uiAssetPrefix = '/ui/';

/**
 * Scripts and styles from this master only; no inline script or style attribute, so text that
 * slipped into markup could not run either. Fetches may go to this master and to the other
 * Raft members (`connectOrigins`): the page follows the leader, and must keep working when
 * the master that served it dies (they answer it through CORS, routes/cors.ts).
 */
export function contentSecurityPolicy(connectOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    ["connect-src 'self'", ...connectOrigins].join(' '),
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

interface UiAsset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

function assetLocation(name: string): URL | string {
  const vendorFile = uiVendorFiles[name];
  return vendorFile === undefined ? new URL(name, uiFolder) : resolvePackageFile(vendorFile);
}

function loadAssets(): Map<string, UiAsset> {
  const assets = new Map<string, UiAsset>();
  for (const [name, contentType] of Object.entries(uiAssetTypes)) {
    // A missing file is a broken checkout (or npm install not run): fail at start, not on the first visitor.
    const body = readFileSync(assetLocation(name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(name, { body, contentType, etag });
  }
  return assets;
}

/**
 * `no-cache` means "revalidate each time": a master upgraded in place serves its new UI at
 * once, and an unchanged file costs a 304 without a body.
 */
function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: UiAsset, policy: string): FastifyReply {
  void reply.headers({
    'cache-control': 'no-cache',
    etag: asset.etag,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': policy,
  });
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.code(200).header('content-type', asset.contentType).send(asset.body);
}

export function registerUiRoutes(app: FastifyInstance, master: MasterCore): void {
  const assets = loadAssets();
  const index = assets.get('index.html');
  if (index === undefined) throw new Error('the UI allow-list has no index.html');
  // Only the document's policy governs the page; the assets' copy needs no member list.
  const assetPolicy = contentSecurityPolicy([]);
  // Public: the page must load to show its login form; every call it makes is authenticated.
  app.get(uiIndexPath, { config: { public: true } }, async (request, reply) =>
    sendAsset(request, reply, index, contentSecurityPolicy(memberOrigins(master, webScheme(request.protocol)))),
  );
  app.get<{ Params: { file: string } }>(
    `${uiAssetPrefix}:file`,
    { config: { public: true } },
    async (request, reply) => {
      const asset = Object.hasOwn(uiAssetTypes, request.params.file) ? assets.get(request.params.file) : undefined;
      if (asset === undefined) throw new HttpError('NOT_FOUND', `no UI file ${JSON.stringify(request.params.file)}`);
      return sendAsset(request, reply, asset, assetPolicy);
    },
  );
}
