#!/usr/bin/env bash
# ThreadSanitizer over the parts of warren that run on more than one thread,
# and only those: everything else runs on the one thread of its io_context
# (sdk/include/warren/sdk/transport.hpp, "Threading").
#  - core/splice: the shared buffer budget (an atomic) and heap_trim's policy
#    (a mutex and atomics) are shared by every thread that runs splices;
#    splice_test drives splices with client and server threads.
#  - the QUIC and HTTP/2 byte containers keep thread_local spare buffers
#    (byte_ring.hpp, byte_queue.hpp); their [buffers] cases run on threads
#    of their own (transport_conformance_test).
#  - the tcp backend plugin, loaded by name (plugin_behaviour_test); Asio
#    resolves a host name on a thread of its own.
#  - the embedding API (core/embed): a tunnel runs on a thread of its own
#    and every member of warren::Tunnel is called from the program's threads
#    (embed_test, against a real edge process).
# Builds those targets in ./build-tsan (or $WARREN_TSAN_BUILD_DIR) with
# WARREN_SANITIZE=thread and runs their tests with scripts/sanitize-env.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WARREN_TSAN_BUILD_DIR:-$root/build-tsan}
"$root/scripts/bootstrap.sh"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
start=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" "${generator[@]}" "${launcher[@]}" -DWARREN_SANITIZE=thread \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARREN_WERROR="$werror" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
fi
cmake --build "$build" -j "$(nproc)" --target splice_test plugin_behaviour_test transport_conformance_test embed_test warren-bundle
echo "tsan build: $(( $(date +%s) - start ))s"
start=$(date +%s)
source "$root/scripts/sanitize-env.sh"
cd "$build"
status=0
# CTest names are BINARY:CASE (no space after the colon).
ctest --output-on-failure --no-tests=error -j "$(nproc)" --timeout 300 -R '^(splice_test|plugin_behaviour_test|embed_test):' \
  || status=$?
tests/bin/transport_conformance_test '[buffers]' || status=$?
echo "tsan tests: $(( $(date +%s) - start ))s"
exit "$status"
