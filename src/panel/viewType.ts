/** The webviews' view types (package.json's onWebviewPanel activation events), apart so activation needs no panel code. */
/** The Generate Image panel's. */
export const PANEL_VIEW_TYPE = 'inlineDiffusion.generatePanel';
/** The Illustrate Document review's view type (restored after a reload: onWebviewPanel activation). */
export const REVIEW_VIEW_TYPE = 'inlineDiffusion.reviewPanel';
/** The image gallery's view type (restored after a reload: onWebviewPanel activation). */
export const GALLERY_VIEW_TYPE = 'inlineDiffusion.gallery';
