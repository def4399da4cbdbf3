"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test downloads get-pip.py from a host this machine cannot reach.
This script is placed where ansible-test caches that download
(~/.ansible/test/cache/get_pip_<version>.py) and does the same job with
the standard library: ensurepip, then `pip install` of the requested
packages from the package index pip is configured for.
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)
