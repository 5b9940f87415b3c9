/** The prompt room's front door: prompts → text-encoder conditioning (and the home of A1111's prompt syntax). */
export { encodePrompts, xlTimeIds } from './promptConditioning';
