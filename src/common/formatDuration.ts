/** A duration as people read it: "9s", "1m 05s", "1h 05m 09s" (the panel's ETA, downloads, the CLI). Dependency-free. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  const ss = String(s % 60).padStart(2, '0');
  if (m < 60) return `${m}m ${ss}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m ${ss}s`;
}
