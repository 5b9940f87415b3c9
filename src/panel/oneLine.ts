/** The panel shows an engine error as one line, never a stack (the log has the whole message). No `vscode`. */

/** The first non-empty line, trimmed, at most 300 characters. */
export function firstLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
