#!/usr/bin/env bash
# The network-table load benchmark (bench/dbload.py, figures in bench/README.md).
# Usage: bench/dbload.sh [options of bench/dbload.py]
exec "$(dirname "$0")/with-env.sh" dbload "$@"
