/**
 * `trowel tui` on the terminal: places a ScreenView (src/console/view.ts)
 * on a blessed screen and reports keys. It decides nothing: the lines, the
 * selection and the help come from the view; keys go back by name.
 *
 *   title                       (1 line)
 *   status: server, disk, ...   (1 line)
 *   body                        (the rest)
 *   input: a label and what was typed, when the screen takes text
 *   notice: an error or news    (1 line)
 *   help line                   (1 line)
 */
import { writeSync } from 'node:fs';
import blessed from 'blessed';
import type { Charset } from '../../src/console/text.ts';
import type { ScreenView, ViewSize } from '../../src/console/view.ts';

export interface ConsoleScreen {
  readonly charset: Charset;
  size(): ViewSize;
  draw(view: ScreenView): void;
  /** Gives the terminal to `run` (a shell), then takes it back and redraws. */
  suspend(run: () => Promise<void>): Promise<void>;
  onResize(listener: () => void): void;
  destroy(): void;
}

/** `onKey` gets blessed's key name ("enter", "up", "C-c", "a") and the character typed, if any. */
export function createConsoleScreen(onKey: (name: string, ch: string | undefined) => void): ConsoleScreen {
  const screen = blessed.screen({ smartCSR: true, title: 'trowel console', warnings: false, fullUnicode: false });
  const line = (options: blessed.Widgets.BoxOptions) => blessed.box({ parent: screen, left: 0, width: '100%', height: 1, tags: true, ...options });
  const title = line({ top: 0, style: { inverse: true, bold: true } });
  const status = line({ top: 1 });
  const body = blessed.box({ parent: screen, top: 2, left: 0, width: '100%', bottom: 2, tags: true });
  const input = line({ bottom: 2, hidden: true });
  const notice = line({ bottom: 1 });
  const help = line({ bottom: 0, style: { inverse: true } });
  const charset = { ascii: !canShowUnicode(screen) };
  let last: ScreenView | undefined;

  screen.on('keypress', (ch: string | undefined, key: { full?: string; name?: string } | undefined) => {
    const name = key?.full ?? key?.name ?? ch;
    // blessed reports Enter twice (as "return", then "enter"); "enter" is the one bound.
    if (!name || name === 'return') return;
    onKey(name, ch);
  });

  const draw = (view: ScreenView) => {
    last = view;
    title.setContent(blessed.escape(view.title));
    status.setContent(blessed.escape(view.status));
    body.bottom = view.input ? 3 : 2;
    body.setContent(view.lines.map((l, i) => {
      const text = blessed.escape(l);
      return view.selected && i >= view.selected.from && i < view.selected.to ? `{inverse}${text}{/inverse}` : text;
    }).join('\n'));
    if (view.input) {
      input.setContent(`${blessed.escape(view.input.label)}{bold}${blessed.escape(view.input.value)}{/bold}_`);
      input.show();
    } else {
      input.hide();
    }
    const tone = view.notice?.tone === 'error' ? 'red-fg' : 'green-fg';
    notice.setContent(view.notice ? `{${tone}}${blessed.escape(view.notice.text)}{/${tone}}` : '');
    help.setContent(blessed.escape(view.help));
    screen.render();
  };

  return {
    charset,
    size: () => ({ columns: Number(screen.width), rows: Number(screen.height) }),
    draw,
    async suspend(run) {
      const resume = screen.program.pause();
      // A clean screen for the program, not the console's last frame (pause() mutes blessed's own writes).
      writeSync(1, '\x1b[H\x1b[2J');
      try {
        await run();
      } finally {
        resume();
        screen.alloc();
        if (last) draw(last);
        screen.render();
      }
    },
    onResize(listener) {
      screen.on('resize', listener);
    },
    destroy() {
      screen.destroy();
    },
  };
}

/**
 * @private Unicode output that the terminal can show. The locale says what
 * the programs here speak, not what the far end of a serial line draws: a
 * vt100-family terminal gets ASCII whatever LANG says, and so does the Linux
 * console, whose fonts lack most block and arrow glyphs.
 */
function canShowUnicode(screen: blessed.Widgets.Screen): boolean {
  // Both are set by blessed's Program but missing from its type declarations.
  const program = screen.program as unknown as { terminal: string; tput: { unicode?: boolean; numbers: Record<string, unknown> } };
  return (program.tput.unicode === true || program.tput.numbers['U8'] === 1) && !/^(linux|vt\d|ansi|dumb)/.test(program.terminal);
}
