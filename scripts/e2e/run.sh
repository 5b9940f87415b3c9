#!/usr/bin/env bash
# npm run test:e2e — the extension in a real VS Code (code-server + headless Chromium), driven like a person.
#   1. scripts/e2e/install.sh: Node 24, code-server, playwright-core into ~/.cache/inline-diffusion-e2e (apt only as root)
#   2. npm run package: the .vsix that ships (E2E_EXT_MODE=folder links the built repository instead)
#   3. node's test runner on test/extension/codeServer/e2e.test.ts under a global timeout (E2E_TIMEOUT_S, 420 s)
# Screenshots and logs: test-output/e2e/<run>/ (printed). Every process group started is killed on exit.
# E2E_MODEL=<folder> uses another model than the embedded one (the setting inlineDiffusion.model).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/e2e/common.sh
T0=$(date +%s)
export E2E_OUTPUT_DIR=${E2E_OUTPUT_DIR:-$(pwd)/test-output/e2e/code-server-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$E2E_OUTPUT_DIR"
e2e_prepare
e2e_guard

set +e
timeout --kill-after=15 "${E2E_TIMEOUT_S:-420}" \
  node --import tsx --test --test-concurrency=1 --test-reporter=spec test/extension/codeServer/e2e.test.ts
RC=$?
set -e
[ "$RC" = 124 ] && echo "[e2e] global timeout of ${E2E_TIMEOUT_S:-420} s reached"
echo "[e2e] screenshots and logs: $E2E_OUTPUT_DIR"
echo "[e2e] $( [ "$RC" = 0 ] && echo PASS || echo "FAIL (exit $RC)" ) in $(( $(date +%s) - T0 )) s"
exit "$RC"
