#!/bin/sh
# Kept for old habits: the benchmark is bench/run.py (see bench/README.md).
exec python3 "$(dirname "$0")/run.py" "$@"
