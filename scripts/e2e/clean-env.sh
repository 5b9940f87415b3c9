#!/usr/bin/env bash
# clean-env.sh [NAME=value]... command [arg]...: runs command (install.sh's inner npm) in an environment of its own,
# like `env -i`, keeping only what describes the machine rather than the npm that may have started us:
#   PATH, without the folders an outer `npm run` puts first (*/node_modules/.bin, npm's */node-gyp-bin);
#   HOME, USER, LOGNAME, SHELL, TMPDIR, LANG, LC_ALL, LC_CTYPE, TERM, TZ;
#   proxies (http_proxy, https_proxy, no_proxy, all_proxy, either case) and certificates (NODE_EXTRA_CA_CERTS,
#   SSL_CERT_FILE, SSL_CERT_DIR);
#   npm's registry and network settings given in the environment (npm_config_registry, _cache, _userconfig,
#   _globalconfig, _cafile, _ca, _strict_ssl, _proxy, _https_proxy, _noproxy; either case). npm reads the rest of
#   its configuration from ~/.npmrc and its global npmrc itself.
# Everything else goes, above all the outer npm's npm_config_user_agent ("npm/… node/v20…", which code-server's
# postinstall reads as the Node version), npm_config_node_gyp, npm_config_nodedir, npm_config_prefix,
# npm_config_local_prefix, npm_node_execpath, npm_execpath, npm_package_*, npm_lifecycle_*, npm_command, INIT_CWD,
# NODE and NODE_OPTIONS. NAME=value arguments are added last (a PATH given so is cleaned the same way).
set -euo pipefail

keep=(HOME USER LOGNAME SHELL TMPDIR LANG LC_ALL LC_CTYPE TERM TZ
  http_proxy https_proxy no_proxy all_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY ALL_PROXY
  NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR)
npm_keep='registry|cache|userconfig|globalconfig|cafile|ca|strict_ssl|proxy|https_proxy|noproxy'

vars=()
for name in "${keep[@]}"; do
  if [ -n "${!name+set}" ]; then vars+=("$name=${!name}"); fi
done
while IFS= read -r name; do
  vars+=("$name=${!name}")
done < <(compgen -e | grep -iE "^npm_config_($npm_keep)\$" || true)

path=$PATH
while [ $# -gt 0 ] && [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
  if [[ $1 == PATH=* ]]; then path=${1#PATH=}; else vars+=("$1"); fi
  shift
done
if [ $# -eq 0 ]; then
  echo "usage: clean-env.sh [NAME=value]... command [arg]..." >&2
  exit 2
fi

clean_path=
IFS=: read -ra dirs <<< "$path"
for dir in "${dirs[@]}"; do
  case $dir in
    '' | */node_modules/.bin | */node-gyp-bin) ;;
    *) clean_path=${clean_path:+$clean_path:}$dir ;;
  esac
done

exec env -i "${vars[@]}" "PATH=$clean_path" "$@"
