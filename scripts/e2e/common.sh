# Shared by run.sh (npm run test:e2e) and bench.sh (npm run bench:extension); source it from the repository root.
#   e2e_prepare: tools into the e2e cache (install.sh), then the extension: E2E_EXTENSION if given, else a fresh
#                .vsix (npm run package) or, with E2E_EXT_MODE=folder, the built repository folder.
#   e2e_guard:   a file of process groups to kill on exit (launchers append code-server's pgid to E2E_PGID_FILE).
e2e_prepare() {
  local t0 vsix_line
  t0=$(date +%s)
  INLINE_DIFFUSION_E2E_CACHE=$(scripts/e2e/install.sh | tail -n 1)
  export INLINE_DIFFUSION_E2E_CACHE
  echo "[e2e] tools ready in $(( $(date +%s) - t0 )) s ($INLINE_DIFFUSION_E2E_CACHE)"
  if [ -z "${E2E_EXTENSION:-}" ]; then
    if [ "${E2E_EXT_MODE:-vsix}" = folder ]; then
      npm run --silent build
      E2E_EXTENSION=$(pwd)
    else
      vsix_line=$(npm run --silent package | tee -a /dev/stderr | grep '^vsix: ' | tail -n 1)
      E2E_EXTENSION=${vsix_line#vsix: }
    fi
  fi
  export E2E_EXTENSION
  echo "[e2e] extension: $E2E_EXTENSION"
}

e2e_guard() {
  E2E_PGID_FILE=$(mktemp -t idx-e2e-pgids-XXXXXX)
  export E2E_PGID_FILE
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM
}

e2e_cleanup() {
  local pg
  for pg in $(cat "$E2E_PGID_FILE" 2>/dev/null); do kill -TERM -- "-$pg" 2>/dev/null || true; done
  sleep 1
  for pg in $(cat "$E2E_PGID_FILE" 2>/dev/null); do kill -KILL -- "-$pg" 2>/dev/null || true; done
  rm -f "$E2E_PGID_FILE"
}
