#!/bin/bash
# Longer runs of the supervisor's seeded simulation (issue 8, item 6) than
# CTest's 10,000 seeds of 300 steps: a wide sweep of fresh seeds, then long
# runs of 3,000 steps each. Prints each run's figures (seeds, steps, wall
# time, faults exercised); stops at the first invariant violation, which
# names its seed (replay: WARREN_SIM_FIRST_SEED=<seed> WARREN_SIM_SEEDS=1,
# WARREN_SIM_TRACE=<lines> for a longer trace).
# Usage: sim_sweep.sh BUILD_DIR [SEEDS] [LONG_SEEDS]   (BUILD_DIR/tests/bin/supervisor_test)
set -eu
build=${1:?usage: $0 BUILD_DIR [SEEDS] [LONG_SEEDS]}
seeds=${2:-100000}
long_seeds=${3:-20000}
test="$build/tests/bin/supervisor_test"
case_name="seeded simulation: the supervisor keeps*"

echo "== $seeds seeds from 10001 (past CTest's), 300 steps each"
WARREN_SIM_FIRST_SEED=10001 WARREN_SIM_SEEDS=$seeds WARREN_SIM_EVENTS=300 "$test" "$case_name" | grep -v '^Filters'
echo "== $long_seeds seeds from 1, 3000 steps each"
WARREN_SIM_FIRST_SEED=1 WARREN_SIM_SEEDS=$long_seeds WARREN_SIM_EVENTS=3000 "$test" "$case_name" | grep -v '^Filters'
