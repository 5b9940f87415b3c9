/**
 * The panel's sampler choices and the mapping from an A1111 infotext ("Sampler: DPM++ 2M", "Schedule type: Karras")
 * back to our sampler ids, over the engine's own table (src/engine/schedulers listSamplers()).
 */
import type { SamplerChoice } from '../protocol/webviewMessages';
import { listSamplers } from '../engine/schedulers/index';

/** The choice that leaves the sampler to the model's scheduler_config.json. */
export const MODEL_DEFAULT_SAMPLER = 'default';

/** Every sampler the engine has, after the model's own. */
export function samplerChoices(): SamplerChoice[] {
  return [
    { id: MODEL_DEFAULT_SAMPLER, label: "Model's own scheduler" },
    ...listSamplers().map((s) => ({ id: s.id, label: s.scheduleType ? `${s.a1111Name} ${s.scheduleType}` : s.a1111Name })),
  ];
}

export function isSamplerChoice(id: string): boolean {
  return id === MODEL_DEFAULT_SAMPLER || listSamplers().some((s) => s.id === id);
}

/** The request's sampler for a choice: null for the model's own. */
export function samplerForRequest(id: string): string | null {
  return id === MODEL_DEFAULT_SAMPLER ? null : id;
}

/**
 * Our sampler id for an infotext's Sampler and Schedule type, or undefined when the engine has no such sampler.
 * A1111 ≥1.9 writes "DPM++ 2M" + "Schedule type: Karras"; older versions wrote "DPM++ 2M Karras".
 */
export function samplerIdFromA1111(sampler: string, scheduleType?: string): string | undefined {
  const name = sampler.trim().toLowerCase();
  const schedule = (scheduleType ?? '').trim().toLowerCase();
  const all = listSamplers();
  for (const s of all) {
    const base = s.a1111Name.toLowerCase();
    const ownSchedule = (s.scheduleType ?? '').toLowerCase();
    const combined = ownSchedule ? `${base} ${ownSchedule}` : base;
    if (name === combined && (schedule === '' || schedule === 'automatic' || schedule === ownSchedule)) return s.id;
    if (name === base && schedule === ownSchedule) return s.id;
    if (name === base && ownSchedule === '' && (schedule === '' || schedule === 'automatic')) return s.id;
  }
  if (schedule !== '' && schedule !== 'automatic') return undefined;
  return all.find((s) => s.id === name || s.className.toLowerCase() === name)?.id;
}
