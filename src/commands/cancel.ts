import type { Command } from '../util/commandManager';
import type { Generator } from '../generation/generator';

/** "Cancel Image Generation": cancels the running generation and every queued one (panel and alt text alike). */
export class CancelCommand implements Command {
  readonly id = 'inlineDiffusion.cancel';

  constructor(private readonly generator: Generator) {}

  execute(): void {
    this.generator.service.cancel();
  }
}
