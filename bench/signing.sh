#!/usr/bin/env bash
# The signing benchmark (bench/signing.py, figures in bench/README.md).
# Usage: bench/signing.sh [options of bench/signing.py]
exec "$(dirname "$0")/with-env.sh" signing "$@"
