/** The last lines of some output, kept to show beside a failure (a build step's, a container's). */
export class LastLines {
  private readonly kept: string[] = [];

  /** @default 20 lines */
  constructor(private readonly limit = 20) {}

  push(line: string): void {
    this.kept.push(line);
    if (this.kept.length > this.limit) this.kept.shift();
  }

  lines(): string[] {
    return [...this.kept];
  }
}
