/** The tokenizer room's front door: CLIP BPE with OpenAI's text cleaning (ARCHITECTURE.md, engine step 1). */
export { ClipTokenizer } from './clipTokenizer';
