#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer included): a second build in ./build-asan (or
# $WARREN_ASAN_BUILD_DIR) of everything — binary, plugins, tests, tools —
# with -fsanitize=address,undefined, then every test with the runtime options
# of scripts/sanitize-env.sh. A finding in a test or in any `warren` it starts
# fails that test. Works on a fresh Debian 12 machine.
#   scripts/test-sanitize.sh                 build, then every test
#   scripts/test-sanitize.sh -R PATTERN ...  build, then only those (ctest arguments)
#   scripts/test-sanitize.sh --unit          only the in-process test binaries (codecs,
#                                            config, sans-io engines and their seeded
#                                            simulations, splices)
# Tests labelled `perf` (RSS or throughput bounds, which ASan's shadow memory,
# quarantine and 2-3x slowdown make meaningless) are left out of the
# sanitized run; their names are printed first, so nothing is skipped silently.
# -O1 -g1: line numbers in reports and a build much faster than -O2 -g.
set -euo pipefail
# The test binaries that start no `warren` process: quick to build sanitized.
unit_tests=(admin_test backoff_test config_reload_test config_test control_test datagram_test dns_srv_logic_test
            edge_test fallback_policy_test group_pool_test ip_rotation_test log_test protocol_test
            proxy_protocol_test sdk_test splice_test supervisor_test test_support_test udp_backend_open_log_test
            udp_backend_test udp_flows_test udp_kind_check_test udp_leg_test udp_public_port_test udp_test
            udp_tunnel_test unix_refusal_log_test)
targets=()
if [ "${1:-}" = "--unit" ]; then
  shift
  targets=(--target "${unit_tests[@]}")
  set -- -R "^($(IFS='|'; echo "${unit_tests[*]}")):" "$@"
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WARREN_ASAN_BUILD_DIR:-$root/build-asan}
"$root/scripts/bootstrap.sh"
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
start=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" "${generator[@]}" "${launcher[@]}" -DWARREN_SANITIZE=address,undefined \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARREN_WERROR="$werror" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
fi
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
echo "sanitizer build: $(( $(date +%s) - start ))s"
source "$root/scripts/sanitize-env.sh"
start=$(date +%s)
cd "$build"
status=0
echo "left out of the sanitized run (label perf):"
ctest -N -L perf | sed -n 's/^ *Test *#[0-9]*: /  /p'
ctest --output-on-failure --no-tests=error -j "$(nproc)" --timeout 600 -LE perf "$@" || status=$?
echo "sanitizer tests: $(( $(date +%s) - start ))s"
exit "$status"
