import type { Command } from '../util/commandManager';
import type { GeneratePanelManager } from '../panel/generatePanel';

/** "Generate Image": opens the panel, or reveals it. */
export class GenerateImageCommand implements Command {
  readonly id = 'inlineDiffusion.generateImage';

  constructor(private readonly panels: GeneratePanelManager) {}

  execute(): void {
    this.panels.show();
  }
}
