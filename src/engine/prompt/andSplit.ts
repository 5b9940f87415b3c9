/**
 * AUTOMATIC1111's AND split (get_multicond_prompt_list in modules/prompt_parser.py) for one prompt: the sub-prompts
 * of composable diffusion, each with the weight of its ":w" suffix (1 without one).
 */
import { PY_DIGIT, PY_SPACE, pyFloat, pyWholeWord } from './pythonText';

const AND_SPLIT = new RegExp(pyWholeWord('AND'), 'u');
const SPACE = new RegExp(`[${PY_SPACE}]`, 'u');
/** re_weight's number, the whole span. */
const WEIGHT = new RegExp(`^[-+]?(?:[${PY_DIGIT}]+\\.?|[${PY_DIGIT}]*\\.[${PY_DIGIT}]+)$`, 'u');

/** The sub-prompts between AND (a whole word) with their weights, in order. */
export function splitAndPrompts(prompt: string): Array<[string, number]> {
  return prompt.split(AND_SPLIT).map(withWeight);
}

/**
 * re_weight.search(subprompt) — `^(\s*.*?)(?:\s*:\s*([-+]?(?:\d+\.?|\d*\.\d+)))?\s*$` with Python's `.` (anything but
 * \n) — read from the right in one pass, as that regex's lazy group settles: the text up to the last ":" whose
 * remainder is whitespace, a number and whitespace, else up to the trailing whitespace; no match (the sub-prompt as
 * it is, weight 1) where that text has a newline after its leading whitespace. (The regex itself backtracks its
 * leading \s* against the lazy .*?: 7 s for 2,000 spaces before a line break.)
 */
function withWeight(subprompt: string): [string, number] {
  const t = subprompt;
  let lead = 0;
  while (lead < t.length && SPACE.test(t[lead])) lead++;
  let end = t.length;
  while (end > lead && SPACE.test(t[end - 1])) end--;
  const noMatch: [string, number] = [t, 1.0];
  const colon = t.lastIndexOf(':', end - 1);
  if (colon >= lead) {
    let numStart = colon + 1;
    while (numStart < end && SPACE.test(t[numStart])) numStart++;
    const number = t.slice(numStart, end);
    if (WEIGHT.test(number)) {
      let textEnd = colon;
      while (textEnd > lead && SPACE.test(t[textEnd - 1])) textEnd--;
      if (t.slice(lead, textEnd).includes('\n')) return noMatch;
      return [t.slice(0, textEnd), pyFloat(number) ?? 1.0];
    }
  }
  const textEnd = Math.max(lead, end);
  if (t.slice(lead, textEnd).includes('\n')) return noMatch;
  return [t.slice(0, textEnd), 1.0];
}
