import { describe, expect, it } from 'vitest';
import { parseTrowelReceiver, parseTrowelSender, parseUdpSender, parseUftpSender, uftpReceived, uftpResults } from './mcast-parse.ts';

// Output as the tools print it (udpcast 20120424, uftp 4.10.2), shortened.
const UDP_SENDER = [
  'Udp-sender 20120424',
  'Using mcast address 234.90.0.1',
  'UDP sender for /dev/shm/in.bin at 10.90.0.1 on eth0 ',
  'Broadcasting control to 10.90.0.255',
  'New connection from 10.90.0.2  (#0) 00000009',
  'Starting transfer: 00000009',
  'bytes= 53 813 760  re-xmits=0000543 (  1.4%) slice=0112 -   0\rbytes= 67 108 864  re-xmits=0001023 (  2.2%) slice=0112 -   0',
  'Transfer complete.',
  'Disconnecting #0 (10.90.0.2)',
].join('\n');

const UFTP = [
  'Got 94 NAKs for section 3 from client 0x0A5A0002',
  'Starting pass 5',
  'Sending section 1',
  'Starting pass 6',
  'Got COMPLETE from client 0x0A5A0002',
  'Transfer status:',
  'Host: 0x0A5A0004       Status: Completed   time:   1.067 seconds',
  'Host: 0x0A5A0003       Status: Aborted     time:   0.000 seconds',
  'Host: 0x0A5A0002       Status: Completed   time:   1.068 seconds',
  'Total elapsed time: 1.068 seconds',
  'Overall throughput: 61373.47 KB/s',
  'Group complete',
].join('\n');

describe('mcast-parse', () => {
  it('parseTrowelSender reads the last summary line of send-file', () => {
    const out = '{"level":"warn"}\ntrowel mcast send-file: 268435456 bytes in 5.123 s, 52.40 MB/s, receivers 6 done 0 dropped, repairs 17, loss 4.97%, packets 189000, block 1452\n';
    expect(parseTrowelSender(out)).toEqual({ bytes: 268435456, dataSeconds: 5.123, done: 6, dropped: 0, repairs: 17, lossPercent: 4.97, packets: 189000, blockSize: 1452 });
    expect(parseTrowelSender('trowel mcast send-file: Cannot send: nobody joined')).toBeUndefined();
  });

  it('parseTrowelReceiver reads the summary line of receive-file', () => {
    const out = 'trowel mcast receive-file: 67108864 bytes in 2.500 s, 26.84 MB/s, repairs 12, loss 1.02%, duplicates 3, bad packets 0\n';
    expect(parseTrowelReceiver(out)).toEqual({ bytes: 67108864, seconds: 2.5, repaired: 12, lossPercent: 1.02, duplicates: 3, badPackets: 0 });
  });

  it('parseUdpSender takes the totals from the last of the carriage-return progress lines', () => {
    expect(parseUdpSender(UDP_SENDER)).toEqual({ bytes: 67108864, retransmits: 1023, complete: true });
    expect(parseUdpSender('Udp-sender 20120424\n')).toBeUndefined();
  });

  it('parseUftpSender counts completed and failed clients and the last pass', () => {
    expect(parseUftpSender(UFTP)).toEqual({ elapsedSeconds: 1.068, completed: 2, failed: 1, passes: 6 });
    expect(parseUftpSender('Announcing...\n')).toBeUndefined();
  });

  it('uftpResults reads RESULT lines of uftpd status files and uftpReceived accepts what 4.10 writes', () => {
    const status = 'CONNECT;2026/11/30-06:06:29;0A5A0001;25E1D724;10.90.0.1;10.90.0.1\nRESULT;2026/11/30-06:06:32;0A5A0001;25E1D724;in.bin;65536KB;copied\n';
    const [r] = uftpResults(status);
    expect(r).toEqual({ filename: 'in.bin', sizeKiB: 65536, status: 'copied' });
    expect(uftpReceived(r!.status)).toBe(true);
    expect(uftpReceived('rejected')).toBe(false);
    expect(uftpResults('CONNECT;x\n')).toEqual([]);
  });
});
