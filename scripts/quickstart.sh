#!/usr/bin/env bash
# Builds warren and shows it at work on the example configs: the plugins it
# finds, and `warren check` on a connector and an edge config.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WARREN_BUILD_DIR:-$root/build}
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" > "$build.log" 2>&1 || { tail -50 "$build.log"; exit 1; }
warren=$build/bin/warren
echo
echo "\$ warren plugins"
"$warren" plugins
for config in tunnel edge; do
  echo
  echo "\$ warren check --config examples/configs/$config.toml"
  (cd "$root" && "$warren" check --config "examples/configs/$config.toml")
done
echo
echo "Now make a mistake and see what warren says:"
sed 's/^address = /adress = /' "$root/examples/configs/tunnel.toml" > /tmp/warren-typo.toml
echo "\$ warren check --config /tmp/warren-typo.toml"
"$warren" check --config /tmp/warren-typo.toml || echo "(exit code $?)"
