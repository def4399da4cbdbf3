#!/usr/bin/env bash
# The delivery benchmark (bench/delivery.py, figures in bench/README.md).
# Usage: bench/delivery.sh [options of bench/delivery.py]
exec "$(dirname "$0")/with-env.sh" delivery "$@"
