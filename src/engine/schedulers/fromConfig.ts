/**
 * diffusers' `Class.from_config(config, **overrides)` (configuration_utils.py, extract_init_dict): the class takes
 * the keys of `config` it accepts, its own defaults for the rest, then the overrides. A config saved by an instance
 * lists the keys that instance took from its own defaults in `_use_default_values`; from_config drops them, so a
 * class picked later uses *its* defaults there, never those of the class that wrote the config (diffusers ≥ 0.18).
 * Keys of other classes are ignored; diffusers warns about those that belong to no scheduler it knows.
 */
import { SCHEDULER_CLASS_DEFAULTS, type SchedulerClassName } from './classDefaults';
import { withClassDefaults, type RawConfig } from './configParsing';

/** The keys an instance of `className` built from `config` took from its defaults (what diffusers records). */
export function defaultedKeys(className: SchedulerClassName, config: RawConfig): string[] {
  return Object.keys(SCHEDULER_CLASS_DEFAULTS[className]).filter((k) => config[k] === undefined);
}

/** `config` without the keys its writer took from defaults (and without the `_use_default_values` list itself). */
function withoutDefaulted(config: RawConfig): Record<string, unknown> {
  const used = config._use_default_values;
  const drop = new Set(Array.isArray(used) ? used.filter((k): k is string => typeof k === 'string') : []);
  drop.add('_use_default_values');
  return Object.fromEntries(Object.entries(config).filter(([k]) => !drop.has(k)));
}

/** The complete config (every key `className` accepts) that `className.from_config(config, **overrides)` builds. */
export function fromConfig(
  className: SchedulerClassName, config: RawConfig, overrides: RawConfig = {},
): Record<string, unknown> {
  return withClassDefaults({ ...withoutDefaulted(config), ...overrides }, SCHEDULER_CLASS_DEFAULTS[className]);
}

/** The keys of `config` diffusers' from_config warns about: accepted by no scheduler class it could be meant for. */
export function unexpectedKeys(config: RawConfig): string[] {
  const known = new Set(Object.values(SCHEDULER_CLASS_DEFAULTS).flatMap((d) => Object.keys(d)));
  return Object.keys(withoutDefaulted(config)).filter((k) => !k.startsWith('_') && !known.has(k));
}
