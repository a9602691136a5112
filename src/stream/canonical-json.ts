/**
 * Canonical JSON: the exact bytes a manifest signature covers. Object keys
 * are sorted recursively (by UTF-16 code units, as RFC 8785 §3.2.3 does),
 * there is no whitespace, and strings and numbers are written the way
 * JSON.stringify writes them (ECMAScript serialization, which RFC 8785
 * adopts). Signer and verifier must agree byte for byte, so anything
 * JSON cannot carry faithfully (NaN, Infinity, bigint, functions, symbols,
 * undefined outside objects) is refused instead of silently changed.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

/** @private `path` names the offending member in errors. */
function write(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`Cannot write canonical JSON: ${path} is ${value}`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => write(v, `${path}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`Cannot write canonical JSON: ${path} is not a plain object`);
      }
      const members: string[] = [];
      for (const key of Object.keys(value).sort()) {
        const member = (value as Record<string, unknown>)[key];
        // As in JSON.stringify, an undefined member is absent, so { a: undefined } and {} sign alike.
        if (member === undefined) continue;
        members.push(`${JSON.stringify(key)}:${write(member, `${path}.${key}`)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`Cannot write canonical JSON: ${path} is ${value === undefined ? 'undefined' : `a ${typeof value}`}`);
  }
}
