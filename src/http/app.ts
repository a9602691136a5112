/**
 * The HTTP application as a fetch function: web-standard Request in,
 * Response out, no sockets. Tests call it directly; server.ts adapts it to
 * node:http. It routes, turns every thrown error into a response in one
 * place (renderError), drops bodies for HEAD, and counts requests and
 * response bytes per route pattern (a pattern, not the raw path, so a
 * client cannot create unbounded metric series).
 */
import type { TrowelConfig } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import type { TemplatePool } from '../pool/index.ts';
import type { McastSessions } from '../mcast-server/index.ts';
import type { EventStore } from '../store/events.ts';
import type { MachineStore } from '../store/machines.ts';
import type { StreamCache } from '../stream/index.ts';
import type { ConnectionInfo, RequestContext } from './context.ts';
import { renderError } from './error-response.ts';
import { eventStreamRoute } from './event-stream-route.ts';
import { HttpError } from './http-error.ts';
import { Router } from './router.ts';
import { bootFilesRoute } from './routes/boot-files.ts';
import { bootScriptRoute } from './routes/boot-script.ts';
import type { RouteDeps } from './routes/deps.ts';
import { keysRoute } from './routes/keys.ts';
import { listSessionsRoute, machineMulticastRoute, showSessionRoute, startSessionRoute, teeReportRoute } from './routes/multicast.ts';
import { getInventoryRoute, putInventoryRoute } from './routes/inventory.ts';
import { getPlanRoute, listEventsRoute, postEventRoute, postLogRoute, putPlanRoute } from './routes/machine-reports.ts';
import { listMachinesRoute, setActionRoute, showMachineRoute } from './routes/machines.ts';
import { healthRoute, metricsRoute } from './routes/status.ts';
import { listTemplatesRoute, templateManifestRoute, templatePackagesRoute, templateStreamRoute } from './routes/templates.ts';

export interface HttpServerOptions {
  /** listen.address, http.port, http.root and boot.{kernel,initrd,args} are used. */
  config: TrowelConfig;
  machines: MachineStore;
  metrics: MetricsRegistry;
  log: Logger;
  adminToken: string;
  /** Address to bind (default 0.0.0.0). */
  bindAddress?: string;
  /** Overrides config.http.port (0 = ephemeral, for tests). */
  port?: number;
  /** Step events and log lines machines post while provisioning. */
  events?: EventStore;
  /** The template pool (GET /api/v1/templates...); absent when the server has none. */
  pool?: TemplatePool;
  /** Signed send streams of the pool's templates; absent without a signing key. */
  streams?: StreamCache;
  /** Multicast sessions of the pool's streams; absent without streams. */
  mcast?: McastSessions;
}

export interface HttpApp {
  fetch(request: Request, info?: ConnectionInfo): Promise<Response>;
}

/** Label for requests no route matched. */
const UNMATCHED = 'unmatched';

export function createHttpApp(options: HttpServerOptions): HttpApp {
  const port = options.port ?? options.config.http.port;
  return buildApp(options, () => port);
}

/** @private Also used by server.ts, which learns the real port only after listening. */
export function buildApp(options: HttpServerOptions, advertisedPort: () => number): HttpApp {
  const deps: RouteDeps = { ...options, advertisedPort, startedAt: Date.now() };
  const router = new Router()
    .get('/boot/ipxe', bootScriptRoute(deps))
    .get('/boot/files/*', bootFilesRoute(deps))
    .get('/api/v1/health', healthRoute(deps))
    .get('/metrics', metricsRoute(deps))
    .get('/api/v1/machines', listMachinesRoute(deps))
    .get('/api/v1/machines/:mac', showMachineRoute(deps))
    .put('/api/v1/machines/:mac/action', setActionRoute(deps))
    .get('/api/v1/machines/:mac/plan', getPlanRoute(deps))
    .put('/api/v1/machines/:mac/plan', putPlanRoute(deps))
    .get('/api/v1/machines/:mac/events', listEventsRoute(deps))
    .post('/api/v1/machines/:mac/events', postEventRoute(deps))
    .post('/api/v1/machines/:mac/log', postLogRoute(deps))
    .post('/api/v1/machines/:mac/multicast', machineMulticastRoute(deps))
    .put('/api/v1/machines/:mac/multicast/:session', teeReportRoute(deps))
    .get('/api/v1/multicast/sessions', listSessionsRoute(deps))
    .post('/api/v1/multicast/sessions', startSessionRoute(deps))
    .get('/api/v1/multicast/sessions/:session', showSessionRoute(deps))
    .get('/api/v1/machines/:mac/inventory', getInventoryRoute(deps))
    .put('/api/v1/machines/:mac/inventory', putInventoryRoute(deps))
    .get('/api/v1/events', eventStreamRoute())
    .get('/api/v1/keys', keysRoute(deps))
    .get('/api/v1/templates', listTemplatesRoute(deps))
    .get('/api/v1/templates/:name/:arch/:version/manifest', templateManifestRoute(deps))
    .get('/api/v1/templates/:name/:arch/:version/stream', templateStreamRoute(deps))
    .get('/api/v1/templates/:name/:arch/:version/packages', templatePackagesRoute(deps));
  const requests = options.metrics.counter('trowel_http_requests_total', 'HTTP requests answered, by route pattern and status.');
  const bytes = options.metrics.counter('trowel_http_response_bytes_total', 'HTTP response body bytes handed to clients, by route pattern.');

  return {
    async fetch(request, info = {}) {
      const url = new URL(request.url);
      const peer = info.remoteAddress ?? 'in-process';
      const started = performance.now();
      let route = UNMATCHED;
      let response: Response;
      try {
        const match = router.match(request.method, url.pathname);
        if (match.kind === 'not_found') {
          throw new HttpError(404, 'not_found', `Cannot find ${url.pathname}: no such route`);
        }
        if (match.kind === 'method_not_allowed') {
          throw new HttpError(405, 'method_not_allowed', `Cannot ${request.method} ${url.pathname}: allowed methods are ${match.allow.join(', ')}`, {
            headers: { allow: match.allow.join(', ') },
          });
        }
        route = match.pattern;
        const ctx: RequestContext = { request, url, params: match.params, peer, log: options.log };
        response = await match.handler(ctx);
      } catch (err) {
        response = renderError(err, options.log, { method: request.method, path: url.pathname, peer });
      }
      requests.inc({ route, status: String(response.status) });
      options.log.debug('request', { peer, method: request.method, path: url.pathname, status: response.status, ms: Math.round(performance.now() - started) });
      return finish(request, response, (n) => bytes.inc({ route }, n));
    },
  };
}

/**
 * @private HEAD gets the GET headers and no body (RFC 9110 §9.3.2). Other
 * bodies pass through a counter, chunk by chunk, so bytes of a download the
 * client abandoned are counted only as far as they were read.
 */
function finish(request: Request, response: Response, count: (n: number) => void): Response {
  if (!response.body) return response;
  if (request.method === 'HEAD') {
    void response.body.cancel();
    return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
  }
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        count(chunk.byteLength);
        controller.enqueue(chunk);
      },
    }),
  );
  return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
}
