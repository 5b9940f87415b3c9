import type { FromWebview, ImageResult, PanelParams, PanelSetup } from '../src/protocol/webviewMessages';
import type { InputImageState } from './inputImage';

/** One entry of the history strip: a small thumbnail and the parameters that made it. */
export interface HistoryEntry {
  readonly imageId: string;
  readonly thumb: string;
  readonly seed: number;
  readonly params: PanelParams;
}

/** What survives hiding the panel and reloading the window (getState/setState). */
export interface PanelState {
  readonly params: PanelParams | null;
  readonly setup: PanelSetup | null;
  readonly lastSeed: number | null;
  readonly results: readonly ImageResult[];
  readonly history: readonly HistoryEntry[];
  /** Image to image: the input image's preview, strength and resize mode. */
  readonly input?: InputImageState;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export function post(message: FromWebview): void {
  api.postMessage(message);
}

/** Posts anything: a test hook for sending malformed messages (the host must survive them). */
export function postRaw(message: unknown): void {
  api.postMessage(message);
}

const EMPTY: PanelState = { params: null, setup: null, lastSeed: null, results: [], history: [] };

export function loadState(): PanelState {
  const raw = api.getState();
  if (typeof raw !== 'object' || raw === null) return EMPTY;
  const s = raw as Partial<PanelState>;
  return {
    params: s.params ?? null,
    setup: s.setup ?? null,
    lastSeed: typeof s.lastSeed === 'number' ? s.lastSeed : null,
    results: Array.isArray(s.results) ? s.results : [],
    history: Array.isArray(s.history) ? s.history : [],
    input: typeof s.input === 'object' && s.input !== null ? s.input : undefined,
  };
}

export function saveState(state: PanelState): void {
  api.setState(state);
}
