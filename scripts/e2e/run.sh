#!/usr/bin/env bash
# npm run test:e2e — the extension in a real VS Code (code-server + headless Chromium), driven like a person.
#   1. scripts/e2e/install.sh: Node 24, code-server, playwright-core into ~/.cache/inline-diffusion-e2e (apt only as root)
#   2. npm run package: the .vsix that ships (E2E_EXT_MODE=folder links the built repository instead)
#   3. node's test runner on test/extension/codeServer/e2e.test.ts under a global timeout (E2E_TIMEOUT_S, 420 s)
# Screenshots and logs: test-output/e2e/<run>/ (printed). Every process group started is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
export E2E_OUTPUT_DIR=${E2E_OUTPUT_DIR:-$ROOT/test-output/e2e/code-server-$STAMP}
mkdir -p "$E2E_OUTPUT_DIR"
T0=$(date +%s)

INLINE_DIFFUSION_E2E_CACHE=$(scripts/e2e/install.sh | tail -n 1)
export INLINE_DIFFUSION_E2E_CACHE
echo "[e2e] tools ready in $(( $(date +%s) - T0 )) s ($INLINE_DIFFUSION_E2E_CACHE)"

if [ -z "${E2E_EXTENSION:-}" ]; then
  if [ "${E2E_EXT_MODE:-vsix}" = folder ]; then
    npm run --silent build
    export E2E_EXTENSION=$ROOT
  else
    VSIX_LINE=$(npm run --silent package | tee /dev/stderr | grep '^vsix: ' | tail -n 1)
    export E2E_EXTENSION=${VSIX_LINE#vsix: }
  fi
fi
echo "[e2e] extension: $E2E_EXTENSION"

export E2E_PGID_FILE=$(mktemp -t idx-e2e-pgids-XXXXXX)
cleanup() {
  local pg
  for pg in $(cat "$E2E_PGID_FILE" 2>/dev/null); do kill -TERM -- "-$pg" 2>/dev/null || true; done
  sleep 1
  for pg in $(cat "$E2E_PGID_FILE" 2>/dev/null); do kill -KILL -- "-$pg" 2>/dev/null || true; done
  rm -f "$E2E_PGID_FILE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

set +e
timeout --kill-after=15 "${E2E_TIMEOUT_S:-420}" \
  node --import tsx --test --test-concurrency=1 --test-reporter=spec test/extension/codeServer/e2e.test.ts
RC=$?
set -e
[ "$RC" = 124 ] && echo "[e2e] global timeout of ${E2E_TIMEOUT_S:-420} s reached"
echo "[e2e] screenshots and logs: $E2E_OUTPUT_DIR"
echo "[e2e] $( [ "$RC" = 0 ] && echo PASS || echo "FAIL (exit $RC)" ) in $(( $(date +%s) - T0 )) s"
exit "$RC"
