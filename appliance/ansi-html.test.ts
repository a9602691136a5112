import { describe, expect, it } from 'vitest';
import { ansiToHtml, applySgr, color256, screenPage } from './ansi-html.ts';

describe('applySgr', () => {
  it('sets and resets colours and attributes', () => {
    expect(applySgr({}, '1;31;44')).toEqual({ bold: true, fg: '#cd0000', bg: '#0000ee' });
    expect(applySgr({ bold: true, fg: '#cd0000' }, '39')).toEqual({ bold: true });
    expect(applySgr({ bold: true, fg: '#cd0000' }, '0')).toEqual({});
    expect(applySgr({ bold: true }, '')).toEqual({});
    expect(applySgr({}, '97;7')).toEqual({ fg: '#ffffff', reverse: true });
  });

  it('reads 256-colour and true-colour forms without taking their numbers for attributes', () => {
    expect(applySgr({}, '38;5;196;1')).toEqual({ fg: '#ff0000', bold: true });
    expect(applySgr({}, '48;2;1;2;3')).toEqual({ bg: '#010203' });
  });
});

describe('color256', () => {
  it('maps the base colours, the cube and the greys as xterm does', () => {
    expect(color256(1)).toBe('#cd0000');
    expect(color256(16)).toBe('#000000');
    expect(color256(21)).toBe('#0000ff');
    expect(color256(231)).toBe('#ffffff');
    expect(color256(232)).toBe('#080808');
    expect(color256(255)).toBe('#eeeeee');
  });
});

describe('ansiToHtml', () => {
  it('turns a captured screen into escaped, styled spans, one line per row', () => {
    const screen = '\x1b[36m┌─\x1b[39m top <b>\n\x1b[30m\x1b[46mrow\x1b[0m & more\n';
    expect(ansiToHtml(screen)).toBe('<span style="color:#00cdcd">┌─</span> top &lt;b&gt;\n<span style="color:#000000;background:#00cdcd">row</span> &amp; more');
  });

  it('drops escape sequences other than SGR', () => {
    expect(ansiToHtml('a\x1b[2Jb\x1b(0c\x1b]0;title\x07d')).toBe('abcd');
  });

  it('swaps colours for reverse video', () => {
    expect(ansiToHtml('\x1b[7mhelp\x1b[27m')).toBe('<span style="color:#101010;background:#e5e5e5">help</span>');
  });
});

describe('screenPage', () => {
  it('wraps the screen in a page with a monospace font', () => {
    const page = screenPage('x', { title: 'trowel <top>' });
    expect(page).toContain('<title>trowel &lt;top&gt;</title>');
    expect(page).toContain("'DejaVu Sans Mono', monospace");
    expect(page).toContain('<pre>x</pre>');
  });
});
