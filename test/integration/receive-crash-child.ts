/**
 * Child process for the crash test: starts a receive and never finishes it
 * (its proxy stalls); the test kills it with SIGKILL mid-stream.
 * argv[2] is JSON: { server, name, arch, version, intoDir, publicKeyPem }.
 */
import { parsePublicKey } from '../../src/stream/index.ts';
import { receiveTemplate } from '../../src/stream/receive.ts';

const args = JSON.parse(process.argv[2]!) as { server: string; name: string; arch: string; version: string; intoDir: string; publicKeyPem: string };
let reported = false;
await receiveTemplate({
  ...args,
  publicKey: parsePublicKey(args.publicKeyPem),
  onProgress: (p) => {
    if (!reported && p.bytes > 0) {
      reported = true;
      process.stdout.write('receiving\n');
    }
  },
});
