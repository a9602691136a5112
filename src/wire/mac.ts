/**
 * Canonical MAC form used everywhere (store keys, URLs, file names):
 * lowercase, colon-separated. Accepts colons, dashes or bare hex.
 * Returns undefined for anything that is not 6 octets.
 */
export function normalizeMac(input: string): string | undefined {
  const hex = input.trim().toLowerCase().replace(/[:-]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}
