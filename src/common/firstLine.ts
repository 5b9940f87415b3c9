/**
 * An error shown in a notice or the panel as one line, never a stack (the log has the whole message). Dependency-free
 * (src/common/): the host, the engine and the webview all use it.
 */

/** The first non-empty line, trimmed, at most 300 characters. */
export function firstLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
