import type { Command } from '../util/commandManager';
import type { GenerationHost } from '../generation/generationHost';

/** "Cancel Image Generation": cancels the running generation and every queued one (panel and alt text alike). */
export class CancelCommand implements Command {
  readonly id = 'inlineDiffusion.cancel';

  constructor(private readonly generationHost: GenerationHost) {}

  execute(): void {
    this.generationHost.service.cancel();
  }
}
