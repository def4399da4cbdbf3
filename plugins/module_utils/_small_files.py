# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the small_files module does to each file (pure: no file is touched here).

``plan(desired, current)``: ``desired`` is {path, content (bytes), uid, gid, mode}; ``current`` is None (missing) or
{content (bytes), uid, gid, mode, regular}. Returns "write" (content differs or missing), "attributes" (owner,
group or mode only) or None (as it should be). A path that exists and is not a regular file is refused.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_MODE = re.compile(r"^0?[0-7]{3,4}$")


class SmallFilesError(Exception):
    pass


def parse_mode(text, path):
    """An octal mode string ("0640") as an int; refused naming the path otherwise."""
    if not isinstance(text, str) or not _MODE.match(text):
        raise SmallFilesError("%s: mode must be an octal string such as '0640', got %r" % (path, text))
    return int(text, 8)


def check_path(path, seen):
    if not isinstance(path, str) or not path.startswith("/") or "\0" in path or "/../" in path + "/" \
            or path.endswith("/"):
        raise SmallFilesError("%r: the path must be absolute, without '..', and name a file" % (path,))
    if path in seen:
        raise SmallFilesError("%s: named twice" % path)
    seen.add(path)


def plan(desired, current):
    if current is None:
        return "write"
    if not current["regular"]:
        raise SmallFilesError("%s: exists and is not a regular file (left alone)" % desired["path"])
    if current["content"] != desired["content"]:
        return "write"
    if (current["uid"], current["gid"], current["mode"]) != (desired["uid"], desired["gid"], desired["mode"]):
        return "attributes"
    return None
