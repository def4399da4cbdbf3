"""Put the collection on sys.path as ansible_collections.vhosting.postfix.

Unit tests import the collection the way Ansible does, from a temporary
ansible_collections tree whose vhosting/postfix entry is a symlink to the
checkout, so no install step is needed for the inner loop.
"""
import os
import sys
import tempfile

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collection_root():
    base = tempfile.mkdtemp(prefix="vhosting-units-")
    ns = os.path.join(base, "ansible_collections", "vhosting")
    os.makedirs(ns)
    os.symlink(_ROOT, os.path.join(ns, "postfix"))
    return base


sys.path.insert(0, _collection_root())
# Helpers shared by several test files (pytest runs with --import-mode=importlib,
# which puts no test directory on sys.path).
sys.path.insert(0, os.path.join(_ROOT, "tests", "unit", "helpers"))
