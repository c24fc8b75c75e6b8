#!/usr/bin/env bash
# usage: install_and_build_example.sh BUILD_DIR EXAMPLE_DIR CXX
# The third-party plugin must build from the installed SDK alone and load by
# name from a config. Prints what it checks; exits non-zero on the first miss.
set -euo pipefail
build_dir=$1 example=$2 cxx=$3
source "$(dirname "$0")/out_of_tree.sh"

install_warren "$build_dir"
[ -x "$prefix/bin/warren" ] || fail "no warren binary installed"
[ -f "$prefix/include/warren/sdk/plugin.hpp" ] || fail "SDK headers not installed"
ls "$prefix"/lib*/cmake/warren/warrenConfig.cmake > /dev/null || fail "no CMake package installed"

step "bundled plugins are found after install, with no flag"
"$prefix/bin/warren" plugins > "$work/bundled.txt"
cat "$work/bundled.txt"
grep -q "^backend tcp [0-9.]* $prefix/.*libwarren-backend-tcp.so$" "$work/bundled.txt" || fail "tcp not found in install"

build_out_of_tree "$example" "$cxx"
plugin=$work/example/build/libwarren-policy-decorrelated.so
[ -f "$plugin" ] || fail "no $plugin"

step "warren plugins --plugin-dir lists it"
"$prefix/bin/warren" plugins --plugin-dir "$work/example/build" | tee "$work/listed.txt"
grep -q "^policy decorrelated 1.0.0 $plugin$" "$work/listed.txt" || fail "not listed"

step "warren plugins --describe shows the keys its schema declares"
"$prefix/bin/warren" plugins --plugin-dir "$work/example/build" --describe policy/decorrelated | tee "$work/described.txt"
grep -q '^  default: "500ms"$' "$work/described.txt" || fail "base's default not described"
grep -q '^  doc:     largest delay$' "$work/described.txt" || fail "max's doc not described"

step "a config selecting it loads it by name (plugin_dirs relative to the config)"
"$prefix/bin/warren" check --config "$work/example/tunnel.toml" || fail "check failed"

step "its own table is validated by its own code"
sed 's/^max = "20s"/max = "20 s"/' "$work/example/tunnel.toml" > "$work/example/bad.toml"
if "$prefix/bin/warren" check --config "$work/example/bad.toml" 2> "$work/bad.err"; then fail "bad table accepted"; fi
cat "$work/bad.err"
grep -q "bad.toml:25:7: 'max' = \"20 s\" is not a duration" "$work/bad.err" || fail "wrong error"
echo "sdk_install: all checks passed"
