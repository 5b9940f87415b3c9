/**
 * The Hugging Face token for gated or private repos, kept in VS Code's SecretStorage (the OS keychain) and
 * never written to a setting, a log or a message. HF_TOKEN from the environment is the fallback, as the
 * huggingface_hub library does.
 */
import type * as vscode from 'vscode';

export const HF_TOKEN_SECRET = 'inlineDiffusion.huggingFaceToken';

export async function readHfToken(secrets: vscode.SecretStorage, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const stored = await secrets.get(HF_TOKEN_SECRET);
  if (stored !== undefined && stored !== '') return stored;
  const fromEnv = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
}

/** Hugging Face tokens start with "hf_" and hold letters and digits only. */
export function checkHfToken(value: string): string | undefined {
  const v = value.trim();
  if (v === '') return undefined; // empty = remove the stored token
  return /^hf_[A-Za-z0-9]{8,}$/.test(v) ? undefined : 'Expected a Hugging Face access token: "hf_" followed by letters and digits';
}
