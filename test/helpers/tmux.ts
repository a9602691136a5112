/**
 * A real terminal for tests of full-screen programs (`trowel tui`, `trowel
 * top`): a detached tmux session of a fixed size runs the command; tests
 * type with sendKeys and read the screen with capture. Each session gets its
 * own tmux server socket, so tests never see or disturb the user's tmux.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../src/sys/run.ts';

export interface TmuxOptions {
  /** The command line to run (one shell word list joined by the caller). */
  command: string;
  columns?: number;
  rows?: number;
  /** TERM inside the session (default xterm-256color; the PXE console is linux, a serial one vt100). */
  term?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export class TmuxSession {
  readonly socket: string;
  readonly name = 'test';

  private constructor(socket: string) {
    this.socket = socket;
  }

  static async start(options: TmuxOptions): Promise<TmuxSession> {
    const session = new TmuxSession(`trowel-test-${randomBytes(4).toString('hex')}`);
    const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    await session.tmux([
      '-f', '/dev/null', 'new-session', '-d', '-s', session.name,
      '-x', String(options.columns ?? 80), '-y', String(options.rows ?? 25),
      ...(options.cwd ? ['-c', options.cwd] : []), ...env,
      // remain-on-exit keeps the last screen (an error, an exit status) readable after the program ends.
      `TERM=${options.term ?? 'xterm-256color'} ${options.command}`,
    ]);
    await session.tmux(['set-option', '-t', session.name, 'remain-on-exit', 'on']);
    return session;
  }

  /** Keys as tmux names them: 'Enter', 'Down', 'C-c', or literal text with `literal`. */
  async sendKeys(...keys: string[]): Promise<void> {
    await this.tmux(['send-keys', '-t', this.name, ...keys]);
  }

  async type(text: string): Promise<void> {
    await this.tmux(['send-keys', '-t', this.name, '-l', text]);
  }

  /** The visible screen as plain text (with `escapes`, the ANSI colours too, for screenshots). */
  async capture(options: { escapes?: boolean } = {}): Promise<string> {
    const { stdout } = await this.tmux(['capture-pane', '-p', '-t', this.name, ...(options.escapes ? ['-e'] : [])]);
    return stdout;
  }

  /** Polls the screen until `pattern` shows; the error carries the last screen. */
  async waitFor(pattern: RegExp | string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.capture();
      if (typeof pattern === 'string' ? screen.includes(pattern) : pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${String(pattern)}; the screen was:\n${screen}`);
      await sleep(200);
    }
  }

  /** True once the program in the pane has exited. */
  async exited(): Promise<boolean> {
    const { stdout } = await this.tmux(['display-message', '-p', '-t', this.name, '#{pane_dead}']);
    return stdout.trim() === '1';
  }

  async kill(): Promise<void> {
    await this.tmux(['kill-server']).catch(() => {});
  }

  private tmux(args: string[]): Promise<{ stdout: string }> {
    return run('tmux', ['-L', this.socket, ...args]);
  }
}
