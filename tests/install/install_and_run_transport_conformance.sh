#!/usr/bin/env bash
# usage: install_and_run_transport_conformance.sh BUILD_DIR EXAMPLE_DIR CXX [LAUNCHER]
# Installs warren to a temporary prefix, builds the out-of-tree transport of
# EXAMPLE_DIR against that install only (find_package(warren)), and runs the
# installed transport conformance suite against it with CTest. Exits non-zero
# when anything fails, the conformance cases included.
set -euo pipefail
build_dir=$1 example=$2 cxx=$3 launcher=${4:-}
source "$(dirname "$0")/out_of_tree.sh"

install_warren "$build_dir"
ls "$prefix"/lib*/cmake/warren/warrenConformanceTargets.cmake > /dev/null || fail "conformance suite not installed"
ls "$prefix"/lib*/libwarren-transport-conformance.a > /dev/null || fail "conformance library not installed"

build_out_of_tree "$example" "$cxx" "$launcher"
plugin=$work/example/build/libwarren-transport-tcptls.so
[ -f "$plugin" ] || fail "no $plugin"

step "warren plugins --plugin-dir lists it"
"$prefix/bin/warren" plugins --plugin-dir "$work/example/build" | tee "$work/listed.txt"
grep -q "^transport tcptls 0.1.0 $plugin$" "$work/listed.txt" || fail "not listed"

step "the installed conformance suite, against it"
count=$(ctest --test-dir "$work/example/build" -N | sed -n 's/^Total Tests: //p')
# Catch2 2 exits with the number of cases it listed, hence the "|| true".
listed=$({ "$work/example/build/transport_conformance_tcptls" --list-test-names-only || true; } | grep -c .)
echo "conformance cases: $listed in the binary, $count registered with CTest"
[ "${count:-0}" -gt 0 ] && [ "$count" = "$listed" ] || fail "CTest registered $count cases, the binary has $listed"
ctest --test-dir "$work/example/build" -j2 --output-on-failure --timeout 120 \
  || fail "the conformance suite failed for the out-of-tree transport"
echo "sdk_transport_conformance: all $count cases passed"
