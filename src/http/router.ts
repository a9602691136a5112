/**
 * A tiny router: method + path pattern -> handler. Patterns are literal
 * segments, `:name` (exactly one non-empty segment) and a final `*` (the
 * rest of the path, possibly empty). Routes are tried in the order added.
 * A path that matches some route under another method is a 405 with the
 * methods that would have worked (RFC 9110 §15.5.6 requires `Allow`);
 * HEAD is served by every GET route (RFC 9110 §9.3.2).
 */
import type { Handler } from './context.ts';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Route {
  method: Method;
  pattern: string;
  segments: string[];
  handler: Handler;
}

export type RouteMatch =
  | { kind: 'found'; pattern: string; handler: Handler; params: Record<string, string> }
  | { kind: 'method_not_allowed'; allow: string[] }
  | { kind: 'not_found' };

export class Router {
  private readonly routes: Route[] = [];

  add(method: Method, pattern: string, handler: Handler): this {
    const segments = pattern.split('/').slice(1);
    const star = segments.indexOf('*');
    if (!pattern.startsWith('/') || (star !== -1 && star !== segments.length - 1)) {
      throw new TypeError(`Cannot add route ${pattern}: patterns start with "/" and "*" may only end them`);
    }
    this.routes.push({ method, pattern, segments, handler });
    return this;
  }

  get(pattern: string, handler: Handler): this {
    return this.add('GET', pattern, handler);
  }

  put(pattern: string, handler: Handler): this {
    return this.add('PUT', pattern, handler);
  }

  post(pattern: string, handler: Handler): this {
    return this.add('POST', pattern, handler);
  }

  match(method: string, path: string): RouteMatch {
    const parts = path.split('/').slice(1);
    const allow = new Set<string>();
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
        return { kind: 'found', pattern: route.pattern, handler: route.handler, params };
      }
      allow.add(route.method);
      if (route.method === 'GET') allow.add('HEAD');
    }
    return allow.size > 0 ? { kind: 'method_not_allowed', allow: [...allow].sort() } : { kind: 'not_found' };
  }
}

/** @private Returns the params when `parts` fit `segments`, else undefined. */
function matchSegments(segments: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg === '*') {
      params['*'] = parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (seg.startsWith(':')) {
      if (part === '') return undefined;
      params[seg.slice(1)] = safeDecode(part);
    } else if (seg !== part) {
      return undefined;
    }
  }
  return parts.length === segments.length ? params : undefined;
}

/** @private A malformed escape is left as-is; the handler's own validation rejects it. */
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
