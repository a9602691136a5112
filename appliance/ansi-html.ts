/**
 * A terminal screen as HTML, for the README's screenshots: the text of
 * `tmux capture-pane -p -e` (characters plus SGR colour and attribute
 * sequences) becomes a <pre> of styled spans that a browser renders and
 * screenshots. Only SGR is interpreted; any other escape sequence is dropped.
 */

interface Style {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  reverse?: boolean;
}

/** xterm's 16 base colours (black..white, then the bright ones). */
const BASE16 = [
  '#000000', '#cd0000', '#00cd00', '#cdcd00', '#0000ee', '#cd00cd', '#00cdcd', '#e5e5e5',
  '#7f7f7f', '#ff0000', '#00ff00', '#ffff00', '#5c5cff', '#ff00ff', '#00ffff', '#ffffff',
];
export const DEFAULT_FG = '#e5e5e5';
export const DEFAULT_BG = '#101010';

/** Colour n of the 256-colour palette: 16 base, a 6x6x6 cube, 24 greys. */
export function color256(n: number): string {
  if (n < 16) return BASE16[n]!;
  if (n < 232) {
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    const i = n - 16;
    return hex(level(Math.floor(i / 36)), level(Math.floor(i / 6) % 6), level(i % 6));
  }
  const grey = 8 + (n - 232) * 10;
  return hex(grey, grey, grey);
}

/** Applies one SGR parameter list ("1;38;5;208") to a style. */
export function applySgr(style: Style, params: string): Style {
  const p = params === '' ? [0] : params.split(';').map((x) => Number(x || 0));
  let s = { ...style };
  for (let i = 0; i < p.length; i++) {
    const n = p[i]!;
    if (n === 0) s = {};
    else if (n === 1) s.bold = true;
    else if (n === 2) s.dim = true;
    else if (n === 3) s.italic = true;
    else if (n === 4) s.underline = true;
    else if (n === 7) s.reverse = true;
    else if (n === 22) s.bold = s.dim = false;
    else if (n === 23) s.italic = false;
    else if (n === 24) s.underline = false;
    else if (n === 27) s.reverse = false;
    else if (n >= 30 && n <= 37) s.fg = BASE16[n - 30];
    else if (n >= 90 && n <= 97) s.fg = BASE16[n - 90 + 8];
    else if (n >= 40 && n <= 47) s.bg = BASE16[n - 40];
    else if (n >= 100 && n <= 107) s.bg = BASE16[n - 100 + 8];
    else if (n === 39) delete s.fg;
    else if (n === 49) delete s.bg;
    else if (n === 38 || n === 48) {
      let c: string | undefined;
      if (p[i + 1] === 5) {
        c = color256(p[i + 2] ?? 0);
        i += 2;
      } else if (p[i + 1] === 2) {
        c = hex(p[i + 2] ?? 0, p[i + 3] ?? 0, p[i + 4] ?? 0);
        i += 4;
      }
      if (c) s[n === 38 ? 'fg' : 'bg'] = c;
    }
  }
  return s;
}

/** The screen's lines as HTML spans (escaped), one line per row. */
export function ansiToHtml(screen: string): string {
  let style: Style = {};
  const lines = screen.replace(/\n$/, '').split('\n');
  return lines
    .map((line) => {
      let html = '';
      let text = '';
      const flush = () => {
        if (text) html += span(style, text);
        text = '';
      };
      // CSI sequences (SGR among them), then other escapes (charset selection, OSC) dropped.
      const tokens = line.split(/(\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z])/);
      for (const token of tokens) {
        if (token.startsWith('\x1b[') && token.endsWith('m')) {
          flush();
          style = applySgr(style, token.slice(2, -1));
        } else if (!token.startsWith('\x1b')) {
          text += token;
        }
      }
      flush();
      return html;
    })
    .join('\n');
}

/** A whole page: the screen on a dark background in a monospace font, nothing else. */
export function screenPage(screen: string, options: { fontPx?: number; title?: string } = {}): string {
  const font = options.fontPx ?? 16;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(options.title ?? 'terminal')}</title>
<style>
  html, body { margin: 0; background: ${DEFAULT_BG}; }
  pre { margin: 0; padding: 12px; font: ${font}px/1.2 'DejaVu Sans Mono', monospace; color: ${DEFAULT_FG}; display: inline-block; }
  .cell { display: inline-block; width: 1ch; height: 1.2em; overflow: hidden; vertical-align: top; text-align: center; }
</style></head>
<body><pre>${ansiToHtml(screen)}</pre></body></html>
`;
}

/** @private */
function span(style: Style, text: string): string {
  let fg = style.fg ?? DEFAULT_FG;
  let bg = style.bg;
  if (style.reverse) [fg, bg] = [bg ?? DEFAULT_BG, fg];
  const css = [
    fg !== DEFAULT_FG ? `color:${fg}` : '',
    bg ? `background:${bg}` : '',
    style.bold ? 'font-weight:bold' : '',
    style.dim ? 'opacity:0.7' : '',
    style.italic ? 'font-style:italic' : '',
    style.underline ? 'text-decoration:underline' : '',
  ].filter(Boolean);
  const body = cells(escapeHtml(text));
  return css.length ? `<span style="${css.join(';')}">${body}</span>` : body;
}

/**
 * @private Characters the monospace font lacks (braille dots: DejaVu Sans
 * Mono has none, the fallback font's are wider) would push the rest of the
 * row out of its columns: each gets a cell one character wide.
 */
function cells(html: string): string {
  return html.replace(/[^\u0000-\u024f\u2500-\u259f]/gu, (c) => `<span class="cell">${c}</span>`);
}

/** @private */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** @private */
function hex(r: number, g: number, b: number): string {
  return `#${[r, g, b].map((v) => Math.max(0, Math.min(255, v)).toString(16).padStart(2, '0')).join('')}`;
}
