/**
 * The panel's sampler choices and the mapping from an A1111 infotext ("Sampler: DPM++ 2M", "Schedule type: Karras")
 * back to our sampler ids, over the engine's own table (src/engine/schedulers listSamplers()).
 */
import type { SamplerChoice } from '../protocol/webviewMessages';
import { listSamplers } from '../engine/schedulers/samplers';

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
 * Our sampler id for an infotext's Sampler, Schedule type and Version, or undefined when the engine has no such
 * sampler. A1111 ≥ 1.9 writes "DPM++ 2M" + "Schedule type: Karras"; older versions wrote "DPM++ 2M Karras". A missing
 * or "Automatic" schedule type means the sampler's own default, which for DPM++ 2M is Karras since A1111 1.9.
 */
export function samplerIdFromA1111(sampler: string, scheduleType?: string, version?: string): string | undefined {
  const name = sampler.trim().toLowerCase();
  let schedule = (scheduleType ?? '').trim().toLowerCase();
  const all = listSamplers();
  const own = (s: (typeof all)[number]): string => (s.scheduleType ?? '').toLowerCase();
  const spelledOut = all.find((s) => own(s) !== '' && name === `${s.a1111Name} ${s.scheduleType}`.toLowerCase());
  if (spelledOut && (schedule === '' || schedule === 'automatic' || schedule === own(spelledOut))) return spelledOut.id;
  if (schedule === '' || schedule === 'automatic') schedule = automaticSchedule(name, version);
  const sameName = all.filter((s) => s.a1111Name.toLowerCase() === name);
  const match = sameName.find((s) => own(s) === schedule) ?? (schedule === 'uniform' ? sameName.find((s) => own(s) === '') : undefined);
  if (match) return match.id;
  if (schedule !== '') return undefined;
  return all.find((s) => s.id === name || s.className.toLowerCase() === name)?.id;
}

/** The schedule type A1111 gives a sampler when the infotext names none ('' = the sampler has only one). */
function automaticSchedule(name: string, version: string | undefined): string {
  if (name !== 'dpm++ 2m') return '';
  const v = /v?(\d+)\.(\d+)/.exec(version ?? '');
  const before19 = v !== null && (Number(v[1]) < 1 || (Number(v[1]) === 1 && Number(v[2]) < 9));
  return before19 ? 'uniform' : 'karras';
}
