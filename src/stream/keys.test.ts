import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initKeys, keyIdOf, loadPublicKey, loadSigningKey, parsePublicKey, publicKeyBase64, publicKeyPem, readPublicKeyFile } from './keys.ts';

// RFC 8032 §7.1 TEST 1 public key d75a9801...511a as SPKI (302a300506032b6570032100 || key).
const RFC8032_PUB_B64 = 'MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
const RFC8032_PUB_PEM = `-----BEGIN PUBLIC KEY-----\n${RFC8032_PUB_B64}\n-----END PUBLIC KEY-----\n`;

describe('keys on disk', () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'trowel-keys-'));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('initKeys writes a 0600 PKCS#8 private key and a 0644 SPKI public key that belong together', async () => {
    const files = await initKeys(stateDir);
    expect(files.privateKeyPath).toBe(join(stateDir, 'keys/signing.key'));
    expect(files.publicKeyPath).toBe(join(stateDir, 'keys/signing.pub'));
    expect((await stat(files.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect((await stat(files.publicKeyPath)).mode & 0o777).toBe(0o644);
    expect((await stat(join(stateDir, 'keys'))).mode & 0o777).toBe(0o700);
    expect(await readFile(files.privateKeyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(await readFile(files.publicKeyPath, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);

    const signing = await loadSigningKey(stateDir);
    const pub = await loadPublicKey(stateDir);
    expect(signing.keyId).toBe(files.keyId);
    expect(keyIdOf(pub)).toBe(files.keyId);
    const data = Buffer.from('manifest');
    expect(verify(null, data, pub, sign(null, data, signing.privateKey))).toBe(true);
  });

  it('initKeys refuses to overwrite a key unless forced, and --force rotates it', async () => {
    const first = await initKeys(stateDir);
    await expect(initKeys(stateDir)).rejects.toMatchObject({
      code: 'EKEYEXISTS',
      message: `Cannot create the signing key: ${first.privateKeyPath} already exists`,
    });
    expect((await loadSigningKey(stateDir)).keyId).toBe(first.keyId);
    const second = await initKeys(stateDir, { force: true });
    expect(second.keyId).not.toBe(first.keyId);
    expect((await loadSigningKey(stateDir)).keyId).toBe(second.keyId);
    expect(keyIdOf(await loadPublicKey(stateDir))).toBe(second.keyId);
  });

  it('says to run "trowel keys init" when there is no key', async () => {
    await expect(loadSigningKey(stateDir)).rejects.toMatchObject({
      code: 'ENOKEY',
      message: `Cannot load the signing key: ${join(stateDir, 'keys/signing.key')} does not exist`,
      hint: 'run "trowel keys init" on the server first',
    });
    await expect(loadPublicKey(stateDir)).rejects.toMatchObject({ code: 'ENOKEY' });
  });

  it('refuses a signing key that is not an ed25519 PEM', async () => {
    await initKeys(stateDir);
    const path = join(stateDir, 'keys/signing.key');
    await writeFile(path, 'not a key');
    await expect(loadSigningKey(stateDir)).rejects.toMatchObject({ code: 'EBADKEY', message: `Cannot load the signing key: ${path} is not a PEM private key` });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await expect(loadSigningKey(stateDir)).rejects.toMatchObject({ code: 'EBADKEY', message: `Cannot load the signing key: ${path} is ec, not ed25519` });
  });

  it('readPublicKeyFile reads a pinned PEM or base64 file and names it in errors', async () => {
    const pem = join(stateDir, 'pinned.pem');
    await writeFile(pem, RFC8032_PUB_PEM);
    expect(keyIdOf(await readPublicKeyFile(pem))).toBe('06e3fd8fda29bb60');
    const b64 = join(stateDir, 'pinned.b64');
    await writeFile(b64, `${RFC8032_PUB_B64}\n`);
    expect(keyIdOf(await readPublicKeyFile(b64))).toBe('06e3fd8fda29bb60');
    await writeFile(b64, 'garbage!');
    await expect(readPublicKeyFile(b64)).rejects.toMatchObject({ code: 'EBADKEY', message: `Cannot read ${b64}: it is neither an SPKI PEM nor base64 SPKI DER` });
  });
});

describe('public key forms', () => {
  it('keyIdOf is the first 16 hex of sha256 over the SPKI DER', () => {
    // python3: hashlib.sha256(bytes.fromhex('302a300506032b6570032100d75a...511a')).hexdigest()[:16]
    expect(keyIdOf(parsePublicKey(RFC8032_PUB_PEM))).toBe('06e3fd8fda29bb60');
  });

  it('parsePublicKey accepts the PEM and the base64 DER, and they round-trip', () => {
    const fromPem = parsePublicKey(RFC8032_PUB_PEM);
    const fromB64 = parsePublicKey(` ${RFC8032_PUB_B64}\n`);
    expect(publicKeyBase64(fromPem)).toBe(RFC8032_PUB_B64);
    expect(publicKeyPem(fromB64)).toBe(RFC8032_PUB_PEM);
    expect(keyIdOf(parsePublicKey(Buffer.from(RFC8032_PUB_PEM)))).toBe('06e3fd8fda29bb60');
  });

  it('parsePublicKey refuses garbage, truncated DER and other algorithms', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' });
    const cases: [string, string][] = [
      ['hello world', 'it is neither an SPKI PEM nor base64 SPKI DER'],
      [RFC8032_PUB_B64.slice(0, 20), 'it is neither an SPKI PEM nor base64 SPKI DER'],
      ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'it is neither an SPKI PEM nor base64 SPKI DER'],
      [rsa as string, 'it is rsa, not ed25519'],
    ];
    for (const [input, why] of cases) {
      expect(() => parsePublicKey(input)).toThrow(expect.objectContaining({ code: 'EBADKEY', message: `Cannot read the public key: ${why}` }));
    }
  });
});
