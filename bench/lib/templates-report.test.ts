import { describe, expect, it } from 'vitest';
import {
  incrementalRatios, medianPipelineRate, medianServeCpuPerGB, medianServeRate, pipelineRatio, renderCodecTable, renderGoals,
  renderIncrementalTable, renderPipelineTable, renderServeTable, serveRatio, summarizeCodec,
  type CodecResults, type IncrementalResult, type PipelineResults, type ServeResults,
} from './templates-report.ts';

const serve: ServeResults = {
  streamBytes: 100e6,
  subject: 'trowel',
  peer: 'nginx',
  references: ['node'],
  clients: [1, 10],
  fetchesPerClient: { 1: 4, 10: 1 },
  runs: {
    1: {
      trowel: [
        { rep: 1, downloads: 4, bytes: 400e6, seconds: 1, serverCpuSeconds: 0.8 },
        { rep: 2, downloads: 4, bytes: 400e6, seconds: 2, serverCpuSeconds: 0.6 },
        { rep: 3, downloads: 4, bytes: 400e6, seconds: 0.5, serverCpuSeconds: 0.4 },
      ],
      nginx: [
        { rep: 1, downloads: 4, bytes: 400e6, seconds: 0.5, serverCpuSeconds: 0.04 },
        { rep: 2, error: 'Cannot count the run' },
      ],
      node: [{ rep: 1, downloads: 4, bytes: 400e6, seconds: 0.8, serverCpuSeconds: 0.4 }],
    },
    10: {
      trowel: [{ rep: 1, error: 'refused' }],
      nginx: [{ rep: 1, downloads: 10, bytes: 1000e6, seconds: 1, serverCpuSeconds: 0.1 }],
    },
  },
};

const pipeline: PipelineResults = {
  uncompressedBytes: 600e6,
  compressedBytes: 200e6,
  subject: 'trowel',
  peer: 'btrfs',
  methods: [{ id: 'trowel', label: 'trowel receive' }, { id: 'btrfs', label: 'send | receive' }],
  runs: {
    trowel: [{ rep: 1, seconds: 5.5, syncSeconds: 0.5, userSeconds: 4, systemSeconds: 2 }, { rep: 2, seconds: 3.5, syncSeconds: 0.5, userSeconds: 3, systemSeconds: 1 }, { rep: 3, error: 'x' }],
    btrfs: [{ rep: 1, seconds: 2.9, syncSeconds: 0.1 }],
  },
};

const incremental: IncrementalResult = {
  files: 8000, changedFiles: 80, changedBytes: 5e6, uncompressedBytes: 5.2e6, compressedBytes: 5.1e6, fetchedBytes: 5.1e6, sendSeconds: 0.4, receiveSeconds: 0.3,
};

describe('serving figures', () => {
  it('medianServeRate is the median of aggregate MB/s over the successful runs', () => {
    expect(medianServeRate(serve, 1, 'trowel')).toBe(400);
    expect(medianServeRate(serve, 1, 'nginx')).toBe(800);
    expect(medianServeRate(serve, 10, 'trowel')).toBeUndefined();
  });

  it('serveRatio is trowel over nginx, undefined when a side has no run', () => {
    expect(serveRatio(serve, 1)).toBe(0.5);
    expect(serveRatio(serve, 10)).toBeUndefined();
  });

  it('medianServeCpuPerGB divides server CPU by the GB sent', () => {
    expect(medianServeCpuPerGB(serve, 1, 'trowel')).toBeCloseTo(1.5);
    expect(medianServeCpuPerGB(serve, 1, 'nginx')).toBeCloseTo(0.1);
  });

  it('renderServeTable shows rates, the ratios (the goal one in bold), CPU and failed runs', () => {
    const table = renderServeTable(serve);
    expect(table).toContain('| trowel / nginx | trowel / node |');
    expect(table).toMatch(/\|\s+1 \|\s+4 \|\s+400\.0 \|\s+800\.0 \(1 failed\) \|\s+500\.0 \|\s+\*\*0\.50×\*\* \|\s+0\.80× \|\s+1\.50 \|\s+0\.10 \|\s+1\.00 \|/);
    expect(table).toMatch(/\|\s+10 \|\s+1 \|\s+n\/a \(1 failed\) \|\s+1000\.0 \|\s+n\/a \|\s+\*\*n\/a\*\* \|\s+n\/a \|/);
  });
});

describe('pipeline figures', () => {
  it('rates are uncompressed MB over command plus sync seconds', () => {
    expect(medianPipelineRate(pipeline, 'trowel')).toBe(125);
    expect(medianPipelineRate(pipeline, 'btrfs')).toBe(200);
    expect(pipelineRatio(pipeline)).toBe(0.625);
  });

  it('renderPipelineTable compares every method with the peer', () => {
    const table = renderPipelineTable(pipeline);
    expect(table).toMatch(/\| trowel receive\s+\|\s+4\.50 \|\s+0\.50 \|\s+3\.50 \+ 1\.50 \|\s+125\.0 \(1 failed\) \|\s+0\.63× \|/);
    expect(table).toMatch(/\| send \\\| receive\s+\|\s+2\.90 \|\s+0\.10 \|\s+n\/a \|\s+200\.0 \|\s+1\.00× \|/);
  });
});

describe('codec figures', () => {
  const codecs: CodecResults = {
    inputBytes: 100e6,
    codecs: [{ id: 'z', label: 'zstd' }, { id: 'g', label: 'gzip' }],
    runs: {
      z: [{ rep: 1, compressedBytes: 35e6, compressSeconds: 0.5, decompressSeconds: 0.1 }, { rep: 2, compressedBytes: 35e6, compressSeconds: 1, decompressSeconds: 0.2 }],
      g: [{ rep: 1, error: 'gzip missing' }],
    },
  };

  it('summarizeCodec gives the size ratio and input MB per second both ways', () => {
    expect(summarizeCodec(codecs, 'z')).toEqual({ compressedBytes: 35e6, ratio: 0.35, compressMBps: 150, decompressMBps: 750 });
    expect(summarizeCodec(codecs, 'g')).toBeUndefined();
  });

  it('renderCodecTable marks a codec without a run', () => {
    const table = renderCodecTable(codecs);
    expect(table).toMatch(/\| zstd\s+\|\s+35\.00 MB \|\s+35\.0% \|\s+150\.0 \|\s+750\.0 \|/);
    expect(table).toMatch(/\| gzip\s+\|\s+n\/a \|\s+n\/a \|\s+n\/a \|\s+n\/a \(1 failed\) \|/);
  });
});

describe('incremental figures', () => {
  it('incrementalRatios divides both stream sizes by the changed bytes', () => {
    const r = incrementalRatios(incremental);
    expect(r.compressed).toBeCloseTo(1.02);
    expect(r.uncompressed).toBeCloseTo(1.04);
  });

  it('incrementalRatios refuses an update that changed nothing', () => {
    expect(() => incrementalRatios({ ...incremental, changedBytes: 0 })).toThrow(RangeError);
  });

  it('renderIncrementalTable shows the share of files and the bold ratio', () => {
    const table = renderIncrementalTable(incremental);
    expect(table).toContain('80 (1.00%)');
    expect(table).toMatch(/\*\*sent \/ changed\*\*\s+\|\s+\*\*1\.02×\*\* \|/);
  });
});

describe('renderGoals', () => {
  it('says met or missed, and by how many points a missed goal falls short', () => {
    expect(renderGoals(serve, pipeline, incremental)).toEqual([
      '- Serving, 1 client(s): 0.50× nginx (goal ≥ 0.90×): **missed**, short by 40 points',
      '- Serving, 10 client(s): n/a nginx (goal ≥ 0.90×): not measured',
      '- Per-client pipeline: 0.63× `btrfs send | btrfs receive` (goal ≥ 0.90×): **missed**, short by 28 points',
      '- Incremental: 1.02× the changed bytes sent (goal ≤ 1.10×): **met**',
    ]);
  });

  it('reports an incremental part that failed or never ran', () => {
    expect(renderGoals(serve, pipeline, { ...incremental, error: 'the incremental receive failed: x' }).at(-1)).toBe('- Incremental: failed: the incremental receive failed: x');
    expect(renderGoals(serve, pipeline, undefined).at(-1)).toBe('- Incremental: not measured');
  });
});
