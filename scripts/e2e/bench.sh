#!/usr/bin/env bash
# npm run bench:extension — activation time, Generate click → first preview, and the extension host's event-loop
# lag during generations vs idle, measured in code-server (bench/extension.ts). Same setup as run.sh.
# Options (environment): BENCH_RUNS (5), BENCH_STEPS (100), BENCH_IDLE_MS (5000), E2E_MODEL, E2E_EXT_MODE=folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/e2e/common.sh
e2e_prepare
e2e_guard
timeout --kill-after=15 "${E2E_TIMEOUT_S:-420}" node --import tsx bench/extension.ts
