// The one live line `npm start` shows while the cluster comes up. On a terminal it is redrawn
// in place (carriage return, erase line); elsewhere (a pipe, a CI log) only its first state is
// printed, as one line, so logs stay short.
const spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class ProgressLine {
  #frame = 0;
  #shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly live: boolean,
  ) {}

  update(text: string): void {
    if (!this.live) {
      if (!this.#shown) this.stream.write(`${text}\n`);
      this.#shown = true;
      return;
    }
    this.#frame = (this.#frame + 1) % spinner.length;
    this.stream.write(`\r\x1b[2K${spinner[this.#frame]} ${text}`);
    this.#shown = true;
  }

  /** Removes the live line, so what follows starts on a clean line. */
  clear(): void {
    if (this.live && this.#shown) this.stream.write('\r\x1b[2K');
    this.#shown = this.live ? false : this.#shown;
  }
}
