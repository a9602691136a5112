/** GET /api/v1/health and GET /metrics: liveness for monitors, counters for Prometheus. */
import { VERSION } from '../../version.ts';
import type { Handler } from '../context.ts';
import { json, text } from '../respond.ts';
import type { RouteDeps } from './deps.ts';

export function healthRoute(deps: RouteDeps): Handler {
  return () => json({ status: 'ok', version: VERSION, uptimeSeconds: Math.floor((Date.now() - deps.startedAt) / 1000) });
}

/** The text exposition format, version 0.0.4, as Prometheus expects it. */
export function metricsRoute(deps: RouteDeps): Handler {
  return () => text(deps.metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
}
