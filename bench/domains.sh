#!/usr/bin/env bash
# The domains benchmark (bench/domains.py, figures in bench/README.md).
# Usage: bench/domains.sh [options of bench/domains.py]
exec "$(dirname "$0")/with-env.sh" domains "$@"
