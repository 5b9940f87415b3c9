/** The Generate Image panel's view type (package.json's onWebviewPanel activation event), apart so activation needs no panel code. */
export const PANEL_VIEW_TYPE = 'inlineDiffusion.generatePanel';
