#!/usr/bin/env bash
# The fleet benchmark (bench/fleet.py, figures in bench/README.md).
# Usage: bench/fleet.sh [options of bench/fleet.py]
exec "$(dirname "$0")/with-env.sh" fleet "$@"
