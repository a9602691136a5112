/**
 * Small response builders. Bodies are built here with an explicit
 * Content-Length so a HEAD answer (body dropped by the app) carries the
 * same length as the GET it mirrors (RFC 9110 §9.3.2).
 */
export function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const body = JSON.stringify(value) + '\n';
  return new Response(body, {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
  });
}

export function text(body: string, contentType = 'text/plain; charset=utf-8', status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), ...headers },
  });
}
