import { describe, expect, it } from 'vitest';
import { parsePlan } from './plan.ts';

describe('parsePlan', () => {
  it('keeps the given fields and drops absent ones', () => {
    expect(parsePlan({ template: 'org.example.Desktop', wipe: true, hostname: 'node1', layout: 'auto', version: 'latest' })).toEqual({
      template: 'org.example.Desktop', wipe: true, hostname: 'node1', layout: 'auto', version: 'latest',
    });
  });

  it.each([
    [null, 'it must be a JSON object'],
    [{}, 'template is required'],
    [{ template: '../../etc/passwd' }, 'template must be a template name'],
    [{ template: 'org.example.Desktop', colour: 'red' }, '"colour" is not a plan field'],
    [{ template: 'org.example.Desktop', wipe: 'yes' }, 'wipe must be true or false'],
    [{ template: 'org.example.Desktop', layout: 'zfs' }, 'layout must be one of auto, gpt-uefi, gpt-bios, mbr, keep'],
    [{ template: 'org.example.Desktop', hostname: '-bad-' }, 'hostname must be a host name'],
    [{ template: 'org.example.Desktop', disk: '/dev/../etc/passwd' }, 'disk must be'],
    [{ template: 'org.example.Desktop', version: 'yesterday' }, 'version must be'],
  ])('refuses %j', (input, message) => {
    expect(() => parsePlan(input)).toThrow(message);
  });
});
