// The small file-output interface the CLI provides to everything that writes files (nothing below
// src/cli touches the file system). A sink is written in order and then either closed (the file
// appears, complete, under its final name) or aborted (nothing appears).

export interface TextSink {
  write(chunk: string): void;
  close(): void;
  abort(): void;
}

/** Collects everything in memory (tests, the browser). */
export class StringSink implements TextSink {
  private readonly parts: string[] = [];
  closed = false;
  write(chunk: string): void {
    this.parts.push(chunk);
  }
  close(): void {
    this.closed = true;
  }
  abort(): void {
    this.parts.length = 0;
  }
  text(): string {
    return this.parts.join("");
  }
}
