/**
 * AUTOMATIC1111's AND split (get_multicond_prompt_list in modules/prompt_parser.py) for one prompt: the sub-prompts
 * of composable diffusion, each with the weight of its ":w" suffix (1 without one).
 */
import { PY_DIGIT, PY_SPACE, pyFloat, pyWholeWord } from './pythonText';

const AND_SPLIT = new RegExp(pyWholeWord('AND'), 'u');
/** re_weight, with Python's `.` (anything but \n) and `$` (the end, or before a final \n). */
const WEIGHT_SUFFIX = new RegExp(
  `^([${PY_SPACE}]*[^\\n]*?)(?:[${PY_SPACE}]*:[${PY_SPACE}]*([-+]?(?:[${PY_DIGIT}]+\\.?|[${PY_DIGIT}]*\\.[${PY_DIGIT}]+)))?` +
  `[${PY_SPACE}]*(?=\\n?$)`, 'u');

/** The sub-prompts between AND (a whole word) with their weights, in order. */
export function splitAndPrompts(prompt: string): Array<[string, number]> {
  return prompt.split(AND_SPLIT).map((subprompt): [string, number] => {
    const match = WEIGHT_SUFFIX.exec(subprompt);
    if (match === null) return [subprompt, 1.0];
    return [match[1], match[2] === undefined ? 1.0 : pyFloat(match[2]) ?? 1.0];
  });
}
