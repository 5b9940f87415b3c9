/**
 * A1111's inpainting fields of an infotext, read back as its paste step does (modules/infotext_utils.py
 * parse_generation_parameters: a missing "Mask mode" is "Inpaint masked", "Masked content" original, "Inpaint area"
 * Whole picture, "Masked area padding" 32; "Mask blur" is written only when > 0). Takes parseInfotext's params.
 */

export interface InpaintInfotextFields {
  readonly maskBlur: number;
  readonly maskMode: 'masked' | 'unmasked';
  readonly maskedContent: 'fill' | 'original' | 'latent-noise' | 'latent-nothing';
  readonly inpaintArea: 'whole' | 'masked';
  readonly inpaintPadding: number;
}

const MASKED_CONTENT: Readonly<Record<string, InpaintInfotextFields['maskedContent']>> = {
  fill: 'fill', original: 'original', 'latent noise': 'latent-noise', 'latent nothing': 'latent-nothing',
};

/** Whether the infotext carries any inpainting field (the image was inpainted). */
export function hasInpaintFields(params: Readonly<Record<string, string | undefined>>): boolean {
  return ['Mask blur', 'Mask mode', 'Masked content', 'Inpaint area', 'Masked area padding'].some((k) => params[k] !== undefined);
}

/**
 * The inpainting settings of an infotext with A1111's defaults for missing fields (a missing "Mask blur" is 0: A1111
 * writes it whenever it blurred), and a note per value it cannot read (that field keeps its default).
 */
export function readInpaintInfotext(params: Readonly<Record<string, string | undefined>>): { fields: InpaintInfotextFields; notes: string[] } {
  const notes: string[] = [];
  const int = (key: string, fallback: number, max: number): number => {
    const raw = params[key];
    if (raw === undefined) return fallback;
    const n = Number(raw.trim());
    if (Number.isInteger(n) && n >= 0 && n <= max) return n;
    notes.push(`${key} "${raw}" is not a whole number from 0 to ${max}; used ${fallback}`);
    return fallback;
  };
  const mode = params['Mask mode'];
  const content = params['Masked content'];
  const area = params['Inpaint area'];
  if (mode !== undefined && mode !== 'Inpaint masked' && mode !== 'Inpaint not masked') notes.push(`Mask mode "${mode}" is not one A1111 writes; used "Inpaint masked"`);
  if (content !== undefined && MASKED_CONTENT[content] === undefined) notes.push(`Masked content "${content}" is not one A1111 writes; used original`);
  if (area !== undefined && area !== 'Whole picture' && area !== 'Only masked') notes.push(`Inpaint area "${area}" is not one A1111 writes; used Whole picture`);
  return {
    fields: {
      maskBlur: int('Mask blur', 0, 64),
      maskMode: mode === 'Inpaint not masked' ? 'unmasked' : 'masked',
      maskedContent: (content !== undefined ? MASKED_CONTENT[content] : undefined) ?? 'original',
      inpaintArea: area === 'Only masked' ? 'masked' : 'whole',
      inpaintPadding: int('Masked area padding', 32, 256),
    },
    notes,
  };
}
