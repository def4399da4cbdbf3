#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vhosting.postfix contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lookup_table
short_description: Maintain a Postfix lookup table; run postmap only when its content changed
version_added: 0.1.0
description:
  - Renders a Postfix lookup table source file (C(/etc/postfix/virtual), C(vmailbox), C(transport), ...) from
    O(entries) or from a data file on the control node (O(src)), compares it with the file on the host by content,
    and writes it atomically only when it differs.
  - For indexed types (lmdb, hash, btree, cdb, dbm, sdbm) the index is rebuilt with C(postmap) when the source
    changed, or when the index is missing or older than the source (with O(file_contents), also older than a file
    that a value names); never otherwise. The new index is built from a temporary source next to the target and
    renamed into place together with the source, so readers (the running Postfix, C(postmap -q)) always see either
    the old or the new table, never a missing or empty one.
  - For a small change to a big lmdb/hash/btree table (at most 1% of at least 10,000 entries) the index is updated
    in place with C(postmap -i -r) and C(postmap -d) instead, which is much faster (see bench/README.md).
  - The index files (C(.lmdb), C(.db), C(.cdb), C(.dir)/C(.pag)) always carry the source's owner, group and mode,
    so a secret table does not leak through its index. This is checked on every run, also when nothing else
    changed, and fixed (the task reports a change and lists the files in RV(index_fixed)). New sources and indexes
    are made in a private (C(0700)) temporary directory next to the source, given their final owner, group and mode
    there (C(postmap) runs with umask C(077)) and renamed into place, so no table file ever has other attributes at
    any path. No temporary file or directory is left behind, after success or failure.
  - A run killed part-way (C(kill -9), a lost host) is repaired by the next run. A hidden marker
    (C(.NAME.vhpending) next to the source) exists from just before the first live table file is renamed or
    updated in place until the source and every index file agree again; while it exists the index counts as stale
    and is rebuilt from the source. Runs on tables of one directory hold an exclusive lock on that directory, and
    each run removes the private directories that killed runs of the same table left (RV(leftovers_removed)).
  - If postmap fails, the previous source is kept (or put back) and the module fails with postmap's stderr, so the
    source and the indexed table never disagree.
  - Every entry is validated before anything is written; bad input fails naming the offending key and changes nothing.
  - Pattern tables (regexp, pcre, cidr) keep the given order (the lookup order); their syntax is checked with the
    real C(postmap) before the table is swapped in. Fixed-string tables are written sorted, keys folded to lower
    case as Postfix folds them.
  - A regexp or pcre key is C(/pattern/flags) (any non-alphanumerical delimiter, optional leading C(!)) and may contain
    spaces (C(/^From .* lottery winner/)); an existing source is read the way Postfix reads it (regexp_table(5),
    pcre_table(5)), so O(exclusive=false) keeps such keys intact. A key with text after the pattern's flags, or with
    a TAB character, is refused.
  - cidr keys are an address or C(address/prefix) without host bits; an entry with host bits set is refused naming
    the network and the host it may have meant.
  - The entries travel to the host in a file (the action plugin transfers it), never as module arguments, so large
    tables avoid Ansible's per-variable cost and O(hide_values) keeps values out of logs.
  - A data file of C(key<TAB>value) lines with lower-case ASCII keys (no comments or continuation lines) is read
    without per-entry Python work, which keeps tables of a million entries fast (see bench/README.md); other
    data gives the same table through a general, per-entry path.
  - For such a data file (O(src), at least 256 KiB, not O(hide_values)) the action plugin keeps a private copy of
    the data file it sent last time on the control node, and on the next run sends only the lines removed and added
    since (O(delta)). The module applies them only when the source is still exactly what that earlier request
    wrote (recorded digest and sha256 of the source, index not stale); the source then is byte for byte what a
    full run gives. Otherwise the whole data file is sent and processed as usual.
author:
  - vhosting.postfix maintainers (@vhosting)
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports what would change (counts, diff, whether postmap would run, which index files would get the
      source's owner, group and mode) and writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The whole before/after text for tables up to 2000 lines; above that a summary of added, removed and
      changed keys with a bounded sample. Index files whose attributes are fixed add one entry each.
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
options:
  path:
    description: The table's source file on the host. The index (for indexed types) is created next to it.
    type: path
    required: true
  type:
    description:
      - The lookup table type. Defaults to the host's C(default_database_type) (C(postconf -h default_database_type)).
    type: str
    choices: [lmdb, hash, btree, cdb, dbm, sdbm, texthash, regexp, pcre, cidr]
  entries:
    description:
      - The table's entries. Either a dict C(key -> value), where a list value is written as C(a, b, c), or a list of
        dicts with C(key), C(value) and C(state) (C(present) or C(absent)); the list form keeps the order, which is the
        lookup order of regexp, pcre and cidr tables.
      - Mutually exclusive with O(src). One of them is required (except with O(probe)).
    type: raw
  src:
    description:
      - A data file on the control node with the entries, shipped to the host by the action plugin without going
        through Ansible variables (fast for very large tables).
      - Its format is given by O(format).
    type: path
  format:
    description:
      - Format of O(src). C(postmap) is the table source format (C(key value) lines, C(#) comments, continuation
        lines); C(csv) is C(key,value[,value...]) rows; C(json) is an object C(key -> value) or a list of
        C({key, value, state}). C(auto) picks json for a C(.json) file or one starting with C({) or C([), csv for a
        C(.csv) file, else postmap.
    type: str
    choices: [auto, postmap, csv, json]
    default: auto
  exclusive:
    description:
      - When true the table is exactly the given entries; keys not given are removed.
      - When false only the given keys are managed; C(state=absent) removes one, others in the file are kept.
    type: bool
    default: true
  backup:
    description: Keep a timestamped copy of the previous source file when it changes.
    type: bool
    default: false
  hide_values:
    description:
      - Keep values out of the diff and the returned data (for secret tables such as sasl_passwd). Keys are shown.
      - When the table is created and O(mode) is not given, it is created with mode C(0600). The mode of an existing
        table is kept unless O(mode) is given; its index files always get the source's mode.
    type: bool
    default: false
  aliases:
    version_added: 0.2.0
    description:
      - The table is a local aliases(5) file such as C(/etc/aliases) (Postfix's C(alias_maps)); entries are written
        as aliases(5) has them (the name, a colon, the value) and the index is built with C(postalias) instead of C(postmap). Names must not contain C(:).
      - With O(exclusive=false) the file is edited in place, never re-rendered - only the logical lines of the given
        names change (a name whose line already has the value, whitespace aside, keeps its layout), new names are
        appended, and every other line (the operator's and the Debian package's names, comments) is kept byte for byte.
    type: bool
    default: false
  managed_by:
    version_added: 0.2.0
    description:
      - Who sets these entries, e.g. a role (letters, digits, C(_), C(.), C(-)). Needs O(exclusive=false).
        (Not C(owner), which is the file's owner.)
      - The module records in O(state_file) the keys this owner sets (entries with state C(present)) and removes
        the keys it set on an earlier run and no longer sets, unless another owner has set them since. Keys nobody
        recorded (the operator's) are never removed. The state file is written only after the table was written.
    type: str
  state_file:
    version_added: 0.2.0
    description:
      - The JSON file where O(owner) records its keys, one per table. Default
        C(/var/lib/vhosting-postfix/lookup_table/) followed by O(path) without its leading C(/), C(/) replaced by
        C(_), and C(.json) (C(etc_aliases.json) for C(/etc/aliases)). Only used with O(managed_by).
    type: path
  input_digest:
    version_added: 0.2.0
    description:
      - Set by the action plugin, not by tasks. The digest of the request (data, options, the module's code); after
        a run the module records it on the source (extended attribute C(user.vhosting.lookup_table)) with the
        sha256 of the content it wrote, so that the next run with the same request needs no transfer of the data.
    type: str
  probe:
    version_added: 0.2.0
    description:
      - Set by the action plugin, not by tasks. Only check whether the table is still what O(input_digest) gave
        (the recorded digest matches, the source's sha256 is the recorded one, the index is not stale, no killed
        run left anything); if so, check the attributes and return RV(input_unchanged), else return C(probe_miss)
        (unless O(delta) applies).
    type: bool
    default: false
  delta:
    version_added: 0.3.0
    description:
      - Set by the action plugin, not by tasks. With O(probe), a file on the host with the lines removed from and
        added to the data file since the request O(base_digest). When the table is what that request wrote
        (recorded digest, sha256 of the source, a canonical data file, index not stale, nothing left by a killed
        run), the source is rewritten with these lines and the index updated (RV(delta)); otherwise C(probe_miss).
    type: path
  base_digest:
    version_added: 0.3.0
    description:
      - Set by the action plugin, not by tasks. The O(input_digest) of the request that O(delta) starts from.
    type: str
  file_contents:
    version_added: 0.5.0
    description:
      - Each value names files on the host (absolute paths, separated by spaces or commas; a list value is written
        as C(a, b)), and the index holds the content of those files instead of the names (C(postmap -F)). This is
        what Postfix's C(tls_server_sni_maps) (Postfix 3.4 and later) needs, with the private key, then the
        certificate chain, in PEM.
      - Only for indexed types (lmdb, hash, btree, cdb, dbm, sdbm), not with O(aliases). The index is always
        rebuilt whole (C(postmap -F)), never updated in place.
      - Before anything is written, every named file must be an existing, readable regular file (symbolic links
        are followed); otherwise the module fails naming the key and the file, and changes nothing.
      - The index is also stale, so rebuilt (and the task changed, in check mode too), when a named file was
        modified after the index was built (its modification time, symbolic links followed) or a symbolic link so
        named was replaced since. So a renewed certificate gets into the index on the next run, even when the
        source is the same.
      - The index holds private keys, so a new table is created with mode C(0600) unless O(mode) is given, as with
        O(hide_values). The diff and the returned data show the file names, never the content of the files.
      - C(postmap) reads the files as the owner of the source.
      - The source's first line says that its values name files; turning the option on or off changes it, so the
        index is rebuilt.
    type: bool
    default: false
notes:
  - A change to an indexed table is picked up by Postfix by itself. regexp, pcre, cidr and texthash tables are read
    at process start, so roles notify a reload when such a table changes.
seealso:
  - module: vhosting.postfix.lookup_info
  - module: vhosting.postfix.postconf
"""

EXAMPLES = r"""
- name: Virtual alias table
  vhosting.postfix.lookup_table:
    path: /etc/postfix/virtual
    type: lmdb
    entries:
      postmaster@example.com: root
      info@example.com: [alice@example.com, bob@example.net]
      "@example.com": catchall@example.com

- name: A million entries from a data file on the control node
  vhosting.postfix.lookup_table:
    path: /etc/postfix/virtual_big
    type: lmdb
    src: files/virtual_big.txt
    format: postmap

- name: Client restrictions in lookup order
  vhosting.postfix.lookup_table:
    path: /etc/postfix/client_access.cidr
    type: cidr
    entries:
      - {key: 192.0.2.0/24, value: REJECT}
      - {key: 198.51.100.7/32, value: OK}

- name: Remove one key and leave the others alone
  vhosting.postfix.lookup_table:
    path: /etc/postfix/transport
    exclusive: false
    entries:
      - {key: old.example, state: absent}

- name: The collection's names in /etc/aliases, beside the operator's
  vhosting.postfix.lookup_table:
    path: /etc/aliases
    type: lmdb
    aliases: true
    exclusive: false
    managed_by: lists
    entries:
      mlmmj_example.org_news: '"|/usr/bin/mlmmj-receive -L /var/spool/mlmmj/news@example.org/"'

# main.cf: tls_server_sni_maps = lmdb:/etc/postfix/tls_server_sni. A renewed certificate is indexed on the next run.
- name: Private key and certificate chain by server name (SNI)
  vhosting.postfix.lookup_table:
    path: /etc/postfix/tls_server_sni
    type: lmdb
    file_contents: true
    entries:
      mail.example.net:
        - /etc/letsencrypt/live/mail.example.net/privkey.pem
        - /etc/letsencrypt/live/mail.example.net/fullchain.pem

- name: A secret table
  vhosting.postfix.lookup_table:
    path: /etc/postfix/sasl_passwd
    type: lmdb
    hide_values: true
    entries:
      "[smtp.example.net]:587": "user:{{ vault_smtp_password }}"
  no_log: true
"""

RETURN = r"""
changed:
  description:
    - Whether the source or the index changed (or would change in check mode), content or attributes (owner, group,
      mode).
  type: bool
  returned: always
index_fixed:
  description:
    - The existing index files whose owner, group or mode differed from the source's and were set to the source's
      (in check mode, would be). Empty when they matched or the index was rebuilt anyway. With diff mode each
      appears in the diff as C(owner=UID group=GID mode=MODE) before and after.
  type: list
  elements: str
  returned: always
  sample: [/etc/postfix/sasl_passwd.lmdb]
input_unchanged:
  description: The request was the same as the one that gave the table its current content (recorded on the
    source), so the data was neither transferred nor processed again.
  type: bool
  returned: when true
delta:
  version_added: 0.3.0
  description: Only the lines changed since the previous request were sent and applied to the source (see O(delta)).
  type: bool
  returned: when true
delta_ready:
  version_added: 0.3.0
  description: The source is the data file's lines, sorted, under the module's header (a canonical data file,
    no per-entry normalisation), so the next run may send only the changed lines.
  type: bool
  returned: when true
leftovers_removed:
  description: Private temporary directories of killed earlier runs of this table, removed by this run (in
    check mode, those that would be removed).
  type: list
  elements: str
  returned: always
  sample: [/etc/postfix/.virtual.k2j4h1xq.vhtmp]
rebuilt:
  description: Whether postmap ran (or would run in check mode) on the index, fully or incrementally.
  type: bool
  returned: always
incremental:
  description: Whether the index was updated in place with C(postmap -i)/C(postmap -d) rather than rebuilt.
  type: bool
  returned: always
table:
  description: The table reference for main.cf.
  type: str
  returned: always
  sample: lmdb:/etc/postfix/virtual
type:
  description: The table type used.
  type: str
  returned: always
  sample: lmdb
entries:
  description: Number of entries in the table after the run.
  type: int
  returned: always
added:
  description: Number of keys added.
  type: int
  returned: always
removed:
  description: Number of keys removed.
  type: int
  returned: always
modified:
  description: Number of keys whose value changed.
  type: int
  returned: always
stale_removed:
  version_added: 0.2.0
  description: The keys O(managed_by) set on an earlier run and no longer sets, removed (in check mode, to be removed).
  type: list
  elements: str
  returned: always
backup_file:
  description: The backup copy of the previous source, when O(backup=true) and the source changed.
  type: str
  returned: changed and backup
cmd:
  description: The failing postmap command.
  type: list
  elements: str
  returned: failure of postmap
rc:
  description: postmap's exit code.
  type: int
  returned: failure of postmap
stderr:
  description: postmap's standard error.
  type: str
  returned: failure of postmap
"""

import errno
import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
import threading

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.vhosting.postfix.plugins.module_utils._atomic import write_atomic
from ansible_collections.vhosting.postfix.plugins.module_utils._lookup_table import (
    DIFF_LINE_LIMIT,
    INDEX_SUFFIXES,
    LookupTableError,
    canonical_lines,
    detect_format,
    diff_text_lines,
    index_files,
    is_fixed,
    is_ordered,
    lines_to_pairs,
    normalise_entries,
    parse_data,
    plan_source,
    fold,
    render_lines,
    source_lines,
    summarise_lines,
    use_incremental,
    validate,
    validate_alias_keys,
)
from ansible_collections.vhosting.postfix.plugins.module_utils._table_delta import DeltaError
from ansible_collections.vhosting.postfix.plugins.module_utils import _table_delta
from ansible_collections.vhosting.postfix.plugins.module_utils._owner_state import (
    check_table_owner,
    parse_table_state,
    plan_table_ownership,
    render_table_state,
    table_state_file,
)

# postmap creates the index files under this umask: nobody but the owner can
# read them before they get the source's mode.
POSTMAP_UMASK = 0o077
# The first header line of a source without and with O(file_contents): switching the option changes the text, so
# the index is rebuilt (with or without postmap -F).
MARKER = "Ansible managed"
FILE_CONTENTS_MARKER = "Ansible managed; the values name files whose content the index holds (postmap -F)"


def file_names(value):
    """The file names in a value of a file_contents table, split as postmap -F splits them (commas, whitespace)."""
    return value.replace(",", " ").split()


def _file_problem(name):
    """Why postmap -F could not read `name` (None: it can). Looks at the file, never reads it."""
    if not os.path.isabs(name):
        return "is not an absolute path"
    try:
        st = os.stat(name)  # follows symbolic links
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return "is a symbolic link to a missing file" if os.path.islink(name) else "does not exist"
        return "cannot be read: %s" % (exc.strerror or exc)
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if not os.access(name, os.R_OK):
        return "is not readable"
    return None


def check_file_contents(pairs):
    """With file_contents: every value of [(key, value)] names existing, readable regular files by absolute path;
    else raise LookupTableError naming the key and the file."""
    checked = set()
    for key, value in pairs:
        names = file_names(value)
        if not names:
            raise LookupTableError("key %r: the value names no file (file_contents)" % key)
        for name in names:
            if name in checked:
                continue
            problem = _file_problem(name)
            if problem:
                raise LookupTableError("key %r: %s %s (file_contents: the index holds the content of the files "
                                       "each value names)" % (key, name, problem))
            checked.add(name)


class PostmapError(Exception):
    def __init__(self, cmd, rc, stdout, stderr, msg):
        super(PostmapError, self).__init__(msg)
        self.cmd, self.rc, self.stdout, self.stderr, self.msg = cmd, rc, stdout, stderr, msg


def attributes(path):
    """(uid, gid, mode) of a file."""
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def show_attributes(attrs):
    return "owner=%d group=%d mode=%04o\n" % attrs


class Table(object):
    """The table on the host: its source, its index files, and postmap.

    Every new source and index is made in a private (0700) directory next to
    the source, on the same filesystem, gets the final owner, group and mode
    there, and is renamed into place: no reader and no other user ever sees
    a table file with other attributes than the source's, at any path.
    """

    def __init__(self, module, path, table_type, aliases=False, file_contents=False):
        self.module = module
        self.path = path
        self.type = table_type
        self.aliases = aliases
        # The values name files whose content postmap -F puts into the index.
        self.file_contents = file_contents
        self.suffixes = [name[len(path):] for name in index_files(path, table_type)]
        self.postmap = module.get_bin_path("postalias" if aliases else "postmap", required=True)
        self.workspaces = []
        directory, name = os.path.split(path)
        self.directory = directory or "."
        # Present from just before the live files are first touched until the
        # source and every index file agree again: a run killed in between
        # leaves it, and the next run rebuilds the index from the source.
        self.pending = os.path.join(self.directory, ".%s.vhpending" % name)
        self.lock_fd = None

    def lock(self, remove_leftovers=True):
        """Hold an exclusive lock on the table's directory for the rest of the run, then find (and remove,
        unless told not to) what killed runs of this table left: their private directories (a partial new
        source or index). Returns their names."""
        self.lock_fd = os.open(self.directory, os.O_RDONLY)
        fcntl.flock(self.lock_fd, fcntl.LOCK_EX)
        left = self.leftovers()
        for name in left if remove_leftovers else []:
            shutil.rmtree(name, ignore_errors=True)
        return left

    def leftovers(self):
        """The private directories that killed runs of this table left."""
        prefix = ".%s." % os.path.basename(self.path)
        return sorted(os.path.join(self.directory, name) for name in os.listdir(self.directory)
                      if name.startswith(prefix) and name.endswith(".vhtmp")
                      and os.path.isdir(os.path.join(self.directory, name)))

    def unlock(self):
        if self.lock_fd is not None:
            os.close(self.lock_fd)  # also releases the lock
            self.lock_fd = None

    def begin(self):
        """Write the pending marker (durably) before any live table file changes."""
        fd = os.open(self.pending, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def done(self):
        """The source and its index agree again: remove the pending marker."""
        try:
            os.unlink(self.pending)
        except OSError:
            pass

    def read(self):
        try:
            with open(self.path, "r", encoding="utf-8", errors="surrogateescape") as handle:
                return handle.read()
        except (IOError, OSError):
            return None

    def index_stale(self):
        """True when an indexed type's index is missing or older than the source (with file_contents: or than a
        file that the source's values name)."""
        if not self.suffixes:
            return False
        if os.path.exists(self.pending):
            return True
        source_mtime = os.stat(self.path).st_mtime
        built = None
        for suffix in self.suffixes:
            index = self.path + suffix
            if not os.path.exists(index) or os.stat(index).st_mtime < source_mtime:
                return True
            mtime = os.stat(index).st_mtime_ns
            built = mtime if built is None else min(built, mtime)
        return self.file_contents and self.files_changed_since(built)

    def files_changed_since(self, mtime_ns):
        """With file_contents: True when a file named in the source's values was modified after `mtime_ns` (its
        mtime, symbolic links followed: a renewed certificate), or a symbolic link so named was replaced after it
        (pointed at another file, even an older one), or the file is gone. Reads no file's content."""
        try:
            pairs = lines_to_pairs(source_lines(self.read() or "", self.type))
        except LookupTableError:
            return True
        seen = set()
        for _key, value in pairs:
            for name in file_names(value):
                if name in seen:
                    continue
                seen.add(name)
                try:
                    if os.stat(name).st_mtime_ns > mtime_ns or os.lstat(name).st_mtime_ns > mtime_ns:
                        return True
                except OSError:
                    return True
        return False

    def run(self, args, data=None, what="postmap", ok_rcs=(0,)):
        cmd = [self.postmap] + args
        rc, out, err = self.module.run_command(cmd, data=data, binary_data=True, environ_update={"LC_ALL": "C"},
                                               umask=POSTMAP_UMASK)
        if rc not in ok_rcs:
            raise PostmapError(cmd, rc, out, err, "%s failed (rc=%d): %s" % (what, rc, err.strip() or out.strip()))
        return out, err

    def workspace(self, uid):
        """A new private directory next to the source, writable by `uid` (postmap runs as the source's owner)."""
        directory = os.path.dirname(self.path) or "."
        tmpdir = tempfile.mkdtemp(prefix=".%s." % os.path.basename(self.path), suffix=".vhtmp", dir=directory)
        self.workspaces.append(tmpdir)
        if uid is not None and uid != os.geteuid():
            os.chown(tmpdir, uid, -1)
        return tmpdir

    def temp_source(self, text, mode, uid, gid):
        """Write text (str, bytes, or a list of bytes-like pieces) to a temporary source in a new private
        directory, with the final mode, owner and group.

        uid/gid None: as a new file in the source's directory gets them.
        """
        tmp = os.path.join(self.workspace(uid), os.path.basename(self.path))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        if isinstance(text, (bytes, list)):
            with os.fdopen(fd, "wb") as handle:
                handle.writelines([text] if isinstance(text, bytes) else text)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
                handle.write(text)
        if uid is not None or gid is not None:
            os.chown(tmp, -1 if uid is None else uid, -1 if gid is None else gid)
        os.chmod(tmp, mode)
        return tmp

    def cleanup(self):
        """Remove every temporary directory (after success or failure)."""
        while self.workspaces:
            shutil.rmtree(self.workspaces.pop(), ignore_errors=True)

    def index_mismatches(self, source, want=None):
        """[(index file, its attributes)] of the existing index files of `source` whose owner, group or mode
        differ from `want` (default: the source's own)."""
        want = want or attributes(source)
        found = []
        for suffix in self.suffixes:
            try:
                have = attributes(source + suffix)
            except OSError:
                continue
            if have != want:
                found.append((source + suffix, have))
        return found

    def match_index(self, source, want=None):
        """Give the index files of `source` the owner, group and mode of the source (or `want`);
        return [(index file, previous attributes)] of those that differed."""
        want = want or attributes(source)
        fixed = self.index_mismatches(source, want)
        for name, _have in fixed:
            os.chown(name, want[0], want[1])
            os.chmod(name, want[2])
        return fixed

    def check_patterns(self, tmp, first_line, pairs):
        """Let postmap parse a pattern table; fail naming the key of any line it rejects."""
        # rc 1 only says that the probe key was not found.
        _out, err = self.run(["-q", "vhosting-syntax-probe", "%s:%s" % (self.type, tmp)],
                             what="postmap syntax check", ok_rcs=(0, 1))
        problems = [line for line in to_native(err).splitlines() if "warning" in line or "fatal" in line]
        if not problems:
            return
        import re  # pylint: disable=import-outside-toplevel

        for line in problems:
            match = re.search(r"line (\d+): (.*)", line)
            if match:
                index = int(match.group(1)) - first_line
                if 0 <= index < len(pairs):
                    detail = match.group(2)
                    raise LookupTableError("key %r: Postfix rejects this %s entry: %s" % (pairs[index][0], self.type, detail))
        raise LookupTableError("Postfix rejects the %s table: %s" % (self.type, " / ".join(problems)))

    def build_index(self, tmp):
        """postmap the temporary source (the index appears next to it), then give the index the source's
        owner, group and mode, still inside the private directory. With file_contents postmap -F stores the
        content of the files each value names."""
        self.run((["-F"] if self.file_contents else []) + ["%s:%s" % (self.type, tmp)])
        self.match_index(tmp)

    def swap_in(self, tmp, with_index=True, with_source=True):
        """Rename the index files first, then the source (so the source is never newer than its index).

        Plain renames within the filesystem: each file keeps the attributes
        it was given in the private directory, and its mtime.
        """
        if with_index:
            for suffix in self.suffixes:
                os.rename(tmp + suffix, self.path + suffix)
        if with_source:
            os.rename(tmp, self.path)


def final_mode(module, mode, path_stat, hide):
    """The mode the source (and so its index) ends with: O(mode), else the current one, else the default."""
    default = 0o600 if hide else 0o644
    current = default if path_stat is None else stat.S_IMODE(path_stat.st_mode)
    if mode is None:
        return current
    if isinstance(mode, int):
        result = mode
    else:
        try:
            result = int(str(mode), 8)
        except ValueError:
            base = path_stat if path_stat is not None else os.stat_result((stat.S_IFREG | default,) + (0,) * 9)
            try:
                result = module._symbolic_mode_to_octal(base, str(mode))
            except Exception as exc:  # pylint: disable=broad-except
                module.fail_json(msg="mode %r must be in octal or symbolic form: %s" % (mode, to_native(exc)))
    if result != stat.S_IMODE(result):
        module.fail_json(msg="mode %r: only permission bits are allowed" % (mode,))
    return result


ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    type=dict(type="str", choices=["lmdb", "hash", "btree", "cdb", "dbm", "sdbm", "texthash", "regexp", "pcre", "cidr"]),
    entries=dict(type="raw"),
    src=dict(type="path"),
    format=dict(type="str", default="auto", choices=["auto", "postmap", "csv", "json"]),
    exclusive=dict(type="bool", default=True),
    backup=dict(type="bool", default=False),
    hide_values=dict(type="bool", default=False),
    aliases=dict(type="bool", default=False),
    managed_by=dict(type="str"),
    input_digest=dict(type="str"),
    probe=dict(type="bool", default=False),
    delta=dict(type="path"),
    base_digest=dict(type="str"),
    state_file=dict(type="path"),
    file_contents=dict(type="bool", default=False),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("entries", "src")],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"]
    if not params["probe"] and params["entries"] is None and params["src"] is None:
        module.fail_json(msg="one of the following is required: entries, src")
    table_type = params["type"] or _default_type(module)
    result = dict(changed=False, rebuilt=False, incremental=False, table="%s:%s" % (table_type, path), type=table_type,
                  entries=0, added=0, removed=0, modified=0, index_fixed=[], stale_removed=[])
    _check_file_contents_option(module, params, table_type, result)
    if params["probe"]:
        _probe(module, params, table_type, result)
    lines, items = _read_request(module, params, table_type, result)
    if params["file_contents"]:
        pairs = lines_to_pairs(lines) if lines is not None else [(k, v) for k, v, s in items if s == "present"]
        _check_files(module, path, pairs, result)
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        module.fail_json(msg="%s: directory %s does not exist" % (path, directory), **result)

    owned = _ownership(module, params, items, table_type, result)
    if owned:
        items = items + [(key, None, "absent") for key in result["stale_removed"]]
    table = Table(module, path, table_type, params["aliases"], params["file_contents"])
    try:
        _locked_run(module, table, params, lines, items, owned, result)
    finally:
        table.unlock()


def _check_file_contents_option(module, params, table_type, result):
    """file_contents needs a table that postmap indexes (not aliases(5), not an unindexed type)."""
    if not params["file_contents"]:
        return
    if params["aliases"]:
        module.fail_json(msg="%s: file_contents cannot be used with aliases=true; it is for postmap tables such as "
                         "tls_server_sni_maps. Nothing was changed" % params["path"], **result)
    if table_type not in INDEX_SUFFIXES:
        module.fail_json(msg="%s: file_contents needs an indexed type (%s), not %s. Nothing was changed"
                         % (params["path"], ", ".join(INDEX_SUFFIXES), table_type), **result)


def _check_files(module, path, pairs, result):
    """file_contents: fail naming the key and the file when a value names a file postmap -F could not read."""
    try:
        check_file_contents(pairs)
    except LookupTableError as exc:
        module.fail_json(msg="%s: %s. Nothing was changed" % (path, to_native(exc)), **result)


def _secret(params):
    """Whether a new table is private (0600): its values are secret, or its index holds files' content."""
    return params["hide_values"] or params["file_contents"]


def _finish(module, table, params, work, result, diffs, canonical):
    """Check mode: report and exit. Else write the source and its index, then the record of the request."""
    path = table.path
    file_args = module.load_file_common_arguments(params)
    want = _wanted_attributes(module, file_args, work, _secret(params))
    if module.check_mode:
        if work["source_stat"] is not None:
            result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"], diff=None) or result["changed"]
            if not result["rebuilt"]:
                _report_index(result, diffs, table.index_mismatches(path, want), want)
        _exit(module, result, diffs)
    _apply(module, table, params, work, (want, file_args), result, diffs)
    if params["input_digest"] and not params["managed_by"]:
        _write_record(path, params["input_digest"], work.get("record_text", work["after_text"]), result["entries"],
                      canonical)
        if canonical:
            result["delta_ready"] = True


def _locked_run(module, table, params, lines, items, owned, result):
    """main() from the directory lock on; exits through exit_json/fail_json."""
    path = table.path
    directory = table.directory
    try:
        result["leftovers_removed"] = table.lock(remove_leftovers=not module.check_mode)
    except (IOError, OSError) as exc:
        module.fail_json(msg="%s: cannot lock %s or remove what earlier runs left: %s"
                         % (path, directory, to_native(exc)), **result)
    work = _plan(table, params, lines, items, result)
    if table.file_contents and not params["exclusive"]:
        _check_files(module, path, lines_to_pairs(work["lines"]), result)  # the entries kept from the source too
    if result["leftovers_removed"]:
        result["changed"] = True
    if owned and owned["text"] != owned["new_text"]:
        result["changed"] = True
    diffs = _content_diffs(path, table.type, work, params["hide_values"], _marker(table)) if module._diff else []
    # The source is the data file's lines, sorted (the fast path): the next run may send only the changes.
    # Not with file_contents: a delta would update the index in place.
    canonical = lines is not None and not params["aliases"] and not table.file_contents
    _finish(module, table, params, work, result, diffs, canonical)
    if owned and owned["text"] != owned["new_text"]:
        try:
            write_atomic(owned["path"], owned["new_text"])
        except (IOError, OSError) as exc:
            module.fail_json(msg="%s: the table was written, but not the state file %s: %s"
                             % (path, owned["path"], to_native(exc)), **result)
    _exit(module, result, diffs)


# The record of the last run's request on the source (an extended attribute):
# "v2 <input digest> <sha256 of the source it wrote> <entries> <1 if the source is the data file's lines, sorted,
# else 0>" (v1 had no last field).
RECORD_XATTR = "user.vhosting.lookup_table"


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _SourceChanged(Exception):
    """The source is not what the delta was made for (found after the new source was written, before any live
    file changed): the run ends with probe_miss instead."""


class _Sha256(threading.Thread):
    """The sha256 of bytes-like pieces, computed in a thread (hashlib releases the GIL on big buffers), so that
    hashing a big source overlaps with writing it or with other work."""

    def __init__(self, pieces):
        super(_Sha256, self).__init__()
        self.daemon = True
        self.pieces = pieces
        self.digest = hashlib.sha256()
        self.start()

    def run(self):
        for piece in self.pieces:
            self.digest.update(piece)

    def hexdigest(self):
        self.join()
        return self.digest.hexdigest()


def _read_record(path):
    try:
        fields = os.getxattr(path, RECORD_XATTR).decode("ascii").split()
    except (OSError, AttributeError, UnicodeDecodeError):
        return None
    if fields[:1] == ["v1"] and len(fields) == 4:
        fields.append("0")
    elif fields[:1] != ["v2"] or len(fields) != 5:
        return None
    if not fields[3].isdigit() or fields[4] not in ("0", "1"):
        return None
    return {"input": fields[1], "sha256": fields[2], "entries": int(fields[3]), "canonical": fields[4] == "1"}


def _write_record(path, input_digest, text, entries, canonical=False):
    """Record which request gave the source's current content (nothing if the filesystem has no user xattrs).

    ``text`` is the content (str or bytes) or a _Sha256 of it."""
    if isinstance(text, _Sha256):
        sha = text.hexdigest()
    else:
        sha = hashlib.sha256(text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")).hexdigest()
    value = "v2 %s %s %d %d" % (input_digest, sha, entries, int(bool(canonical)))
    try:
        if os.getxattr(path, RECORD_XATTR).decode("ascii", "replace") == value:
            return
    except (OSError, AttributeError):
        pass
    try:
        os.setxattr(path, RECORD_XATTR, value.encode("ascii"))
    except (OSError, AttributeError):
        pass


def _probe(module, params, table_type, result):
    """The action plugin's first call: is the table already what this exact request (the digest of the data,
    the options and the module's code) gave on an earlier run? Then nothing needs to be transferred: the
    source still has the content that run wrote (its sha256, read now), the index is not stale and no killed
    run left anything; the attributes are checked and fixed as on every run. Otherwise exit with probe_miss."""
    path = params["path"]
    table = Table(module, path, table_type, params["aliases"], params["file_contents"])
    record = _read_record(path) if os.path.isfile(path) else None
    miss = None
    if not params["input_digest"] or params["managed_by"]:
        miss = "no input digest" if not params["input_digest"] else "managed_by"
    elif record is None:
        miss = "no record of an earlier run"
    elif record["input"] != params["input_digest"]:
        miss = "another request"
        if params["delta"] and record["input"] == params["base_digest"] and record["canonical"]:
            _delta_run(module, params, table_type, result)
    elif table.index_stale() or table.leftovers():
        miss = "index stale (or older than a file it holds) or leftovers of a killed run"
    elif _sha256_file(path) != record["sha256"]:
        miss = "the source changed since"
    if miss:
        module.exit_json(changed=False, probe_miss=True, reason=miss)
    result["entries"] = record["entries"]
    result["input_unchanged"] = True
    if record["canonical"]:
        result["delta_ready"] = True
    diffs = []
    file_args = module.load_file_common_arguments(params)
    work = {"source_stat": os.stat(path)}
    want = _wanted_attributes(module, file_args, work, _secret(params))
    result["changed"] = module.set_fs_attributes_if_different(file_args, False, diff=None)
    if module.check_mode:
        _report_index(result, diffs, table.index_mismatches(path, want), want)
    else:
        _report_index(result, diffs, table.match_index(path), attributes(path))
    _exit(module, result, diffs)


def _delta_run(module, params, table_type, result):
    """Apply the action plugin's delta (lines removed and added since the request base_digest) to the source.

    Returns (for probe_miss) when the table is not exactly what that request
    wrote, checked again under the directory lock: the record, the sha256 of
    the source, the index not stale, nothing left by a killed run, the
    module's header, and every line to remove there, no key twice. Else the
    source is rewritten with the lines spliced in (byte for byte what a
    full run of the new data gives) and the run ends as a full run does.
    """
    table = Table(module, params["path"], table_type, file_contents=params["file_contents"])
    try:
        found = _delta_plan(module, params, table)
        if found is not None:
            _delta_finish(module, table, params, found, result)
    except _SourceChanged:
        pass
    finally:
        table.unlock()


def _delta_plan(module, params, table):
    """Under the directory lock: (source text, new text as pieces, (removed, added, added/removed/modified keys),
    entries, verify) when the delta applies, else None. verify() says whether the source's sha256 is the recorded
    one; it is hashed in a thread and, for a change outside check mode, checked only before any live file changes
    (_apply), so that the hashing overlaps with writing the new source."""
    path = table.path
    try:
        if not is_fixed(table.type) or params["aliases"] or not params["exclusive"] or table.file_contents \
                or table.lock(remove_leftovers=False):
            return None
        record = _read_record(path)
        if record is None or record["input"] != params["base_digest"] or not record["canonical"] or table.index_stale():
            return None
        with open(path, "rb") as handle:
            before = handle.read()
        sha = _Sha256([before])  # meanwhile, the delta is applied and the new source written
        with open(params["delta"], "rb") as handle:
            removed, added = _table_delta.parse(handle.read())
        header = render_lines([], table.type)[0].encode("ascii")
        after, added_keys, removed_keys, modified_keys = _table_delta.apply(before, header, removed, added)
    except (DeltaError, IOError, OSError):
        return None
    entries = record["entries"] + len(added) - len(removed)
    if module._diff and entries + record["entries"] <= DIFF_LINE_LIMIT:
        return None  # the full path shows the whole text

    def verify():
        return sha.hexdigest() == record["sha256"]

    if (module.check_mode or not (removed or added)) and not verify():
        return None
    return before, after, (removed, added, added_keys, removed_keys, modified_keys), entries, verify


def _delta_finish(module, table, params, found, result):
    """The delta's counts, diff and work plan; then as a full run (exits)."""
    before, after, changes, entries, verify = found
    removed, added, added_keys, removed_keys, modified_keys = changes
    text = [line.decode("ascii") for line in removed], [line.decode("ascii") for line in added]
    keys = [[key.decode("ascii") for key in group] for group in (added_keys, removed_keys, modified_keys)]
    changed = bool(removed or added)  # a delta that applies changes the text
    work = dict(before_text=before, after_text=after, first_line=None, lines=None, current=None,
                added=keys[0], removed=keys[1], modified=keys[2], upserts=text[1], content_changed=changed,
                stale=False, aliases=False, entries=entries, source_stat=os.stat(table.path),
                incremental=changed and use_incremental(table.type, entries, len(removed_keys) + len(added)))
    result.update(entries=entries, added=len(added_keys), removed=len(removed_keys), modified=len(modified_keys),
                  rebuilt=bool(table.suffixes) and changed, incremental=work["incremental"], changed=changed,
                  delta=True, leftovers_removed=[])
    diffs = []
    if module._diff and changed:
        summary = summarise_lines(keys[0], keys[1], keys[2], text[0], text[1], params["hide_values"])
        diffs.append(dict(before="", after=summary,
                          before_header="%s (%d entries)" % (table.path, entries - len(added) + len(removed)),
                          after_header="%s (%d entries; summary)" % (table.path, entries)))
    if changed and not module.check_mode:
        work["record_text"] = _Sha256(after)  # hashed while the source is written
        work["verify"] = verify  # checked before any live file changes
    else:
        work["record_text"] = before
    _finish(module, table, params, work, result, diffs, True)
    _exit(module, result, diffs)


def _ownership(module, params, items, table_type, result):
    """With managed_by: the state file, its new text, and the stale keys (in result); None without it."""
    try:
        owner = check_table_owner(params["managed_by"], params["exclusive"])
    except LookupTableError as exc:
        module.fail_json(msg="%s: %s" % (params["path"], to_native(exc)), **result)
    if owner is None:
        return None
    state_file = params["state_file"] or table_state_file(params["path"])
    try:
        with open(state_file, "r", encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        text = None
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read the state file %s: %s. Nothing was changed" % (state_file, exc), **result)
    try:
        owners = parse_table_state(text, params["path"], state_file)
    except LookupTableError as exc:
        module.fail_json(msg=to_native(exc), **result)
    stale, after = plan_table_ownership(owners, owner, items, lambda key: fold(key, table_type))
    result["stale_removed"] = stale
    new_text = render_table_state(params["path"], after)
    if text is None and not after:
        new_text = None  # nothing to record: no state file for an owner that never set anything
    return {"path": state_file, "text": text, "new_text": new_text}


def _exit(module, result, diffs):
    if diffs:
        result["diff"] = diffs if len(diffs) > 1 else diffs[0]
    module.exit_json(**result)


def _default_type(module):
    """main.cf default_database_type, the type of a table given without one."""
    postconf = module.get_bin_path("postconf", required=True)
    rc, out, err = module.run_command([postconf, "-h", "default_database_type"])
    if rc != 0:
        module.fail_json(msg="cannot read default_database_type: %s" % err.strip(), rc=rc, stderr=err)
    return out.strip()


def _read_request(module, params, table_type, result):
    """The requested content: canonical lines (fast path of a clean postmap file) or validated items."""
    lines = None
    items = None
    try:
        validate([], table_type)
        if params["src"] is not None:
            with open(params["src"], "r", encoding="utf-8", errors="surrogateescape") as handle:
                text = handle.read()
            fmt = params["format"]
            if fmt == "auto":
                fmt = detect_format(os.path.basename(params["src"]), text[:64])
            if fmt == "postmap" and params["exclusive"]:
                # Fast path: a canonical postmap-format file needs no per-entry work.
                lines = canonical_lines(text, table_type)
            if lines is None:
                items = parse_data(text, fmt, os.path.basename(params["src"]), table_type)
            del text
        else:
            items = normalise_entries(params["entries"])
        if items is not None:
            validate(items, table_type)
            if params["aliases"]:
                validate_alias_keys(items)
    except (LookupTableError, IOError, OSError) as exc:
        module.fail_json(msg="%s: %s" % (params["path"], to_native(exc)), **result)
    return lines, items


def _plan(table, params, lines, items, result):
    """Compare the table on the host with the request; fills the counts of ``result``."""
    before_text = table.read()
    work = plan_source(before_text, lines, items, table.type, params["exclusive"], aliases=table.aliases,
                       index_stale=table.index_stale, indexed=bool(table.suffixes), marker=_marker(table))
    if table.file_contents:
        work["incremental"] = False  # postmap -F: always a full build
    result.update(entries=work["entries"], added=len(work["added"]), removed=len(work["removed"]),
                  modified=len(work["modified"]), rebuilt=work["rebuilt"], incremental=work["incremental"],
                  changed=work["changed"])
    work["source_stat"] = os.stat(table.path) if before_text is not None else None
    return work


def _marker(table):
    return FILE_CONTENTS_MARKER if table.file_contents else MARKER


def _content_diffs(path, table_type, work, hide, marker=MARKER):
    """The diff of the source: full text up to DIFF_LINE_LIMIT lines, else counts and a sample."""
    if not work["content_changed"]:
        return []
    if work.get("aliases") and not hide and len(work["lines"]) + len(work["current"]) <= DIFF_LINE_LIMIT:
        return [dict(before=work["before_text"] or "", after=work["after_text"],
                     before_header=path, after_header=path)]
    lines, current = work["lines"], work["current"]
    if len(lines) + len(current) <= DIFF_LINE_LIMIT:
        before = work["before_text"]
        before_marker = FILE_CONTENTS_MARKER if (before or "").startswith("# %s\n" % FILE_CONTENTS_MARKER) else MARKER
        return [dict(
            before="" if before is None else diff_text_lines(current, table_type, hide, before_marker),
            after=diff_text_lines(lines, table_type, hide, marker),
            before_header=path, after_header=path)]
    return [dict(
        before="", after=summarise_lines(work["added"], work["removed"], work["modified"], current, lines, hide),
        before_header="%s (%d entries)" % (path, len(current)),
        after_header="%s (%d entries; summary)" % (path, len(lines)))]


def _wanted_attributes(module, file_args, work, hide):
    """(uid, gid, mode) of the source after the run; its index files always carry the same."""
    source_stat = work["source_stat"]
    mode = final_mode(module, file_args.get("mode"), source_stat, hide)
    uid = _uid(module, file_args["owner"]) if file_args.get("owner") is not None else None
    gid = _gid(module, file_args["group"]) if file_args.get("group") is not None else None
    if source_stat is not None:
        uid = source_stat.st_uid if uid is None else uid
        gid = source_stat.st_gid if gid is None else gid
    return (uid, gid, mode)


def _apply(module, table, params, work, wanted, result, diffs):
    """Write the source and its index (full rebuild or in place), then the source's attributes, then the index's."""
    path = table.path
    (uid, gid, mode), file_args = wanted
    try:
        if work["content_changed"]:
            tmp = table.temp_source(work["after_text"], mode, uid, gid)
            if work.get("verify") and not work["verify"]():
                raise _SourceChanged()
            if params["backup"] and work["before_text"] is not None:
                result["backup_file"] = module.backup_local(path)
            if is_ordered(table.type):
                table.check_patterns(tmp, work["first_line"], lines_to_pairs(work["lines"]))
            if work["incremental"]:
                _update_in_place(table, tmp, work["before_text"], work["removed"], work["upserts"], (mode, uid, gid))
            else:
                if table.suffixes:
                    table.build_index(tmp)
                    table.begin()
                table.swap_in(tmp, with_index=bool(table.suffixes))
            table.done()
        elif work["stale"]:
            tmp = table.temp_source(work["before_text"], mode, uid, gid)
            table.build_index(tmp)
            table.begin()
            table.swap_in(tmp, with_index=True, with_source=False)
            table.done()
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"], diff=None) or result["changed"]
        # Checked and fixed on every run, whatever else happened.
        _report_index(result, diffs, table.match_index(path), attributes(path))
    except _SourceChanged:
        raise
    except LookupTableError as exc:
        result.update(changed=False, rebuilt=False, incremental=False)
        module.fail_json(msg="%s: %s" % (path, to_native(exc)), **result)
    except PostmapError as exc:
        result.update(changed=False, rebuilt=False, incremental=False, cmd=exc.cmd, rc=exc.rc,
                      stdout=to_native(exc.stdout), stderr=to_native(exc.stderr))
        module.fail_json(msg="%s: %s; the previous table is unchanged" % (path, exc.msg), **result)
    except (IOError, OSError) as exc:
        module.fail_json(msg="%s: %s" % (path, to_native(exc)), **result)
    finally:
        table.cleanup()


def _report_index(result, diffs, mismatched, want):
    """Record index files whose owner, group or mode differ (differed) from the source's."""
    if not mismatched:
        return
    result["changed"] = True
    result["index_fixed"] = [name for name, _have in mismatched]
    for name, have in mismatched:
        diffs.append(dict(before=show_attributes(have), after=show_attributes(want),
                          before_header="%s (attributes)" % name, after_header="%s (attributes)" % name))


def _update_in_place(table, tmp, before_text, removed, upserts, attrs):
    """Swap in the new source, then apply the difference to the index with postmap -d / -i.

    Readers see the old index until postmap -d commits the removals, then
    postmap -i commits the additions and changes: each step is one
    transaction of the index, the same states that Postfix's own incremental
    updates (postmap -i, the verify and postscreen caches) go through.
    The index gets the new source's owner, group and mode before it receives
    new content (postmap runs as the source's owner), and again after.
    If postmap fails, the old source is put back and the index rebuilt from it,
    so the source and the index agree again.
    """
    table.begin()
    table.match_index(table.path, attributes(tmp))
    table.swap_in(tmp, with_index=False)
    target = "%s:%s" % (table.type, table.path)
    try:
        if removed:
            table.run(["-d", "-", target], data="".join("%s\n" % k for k in removed).encode("utf-8", "surrogateescape"),
                      ok_rcs=(0, 1))
        if upserts:
            table.run(["-i", "-r", target], data=("\n".join(upserts) + "\n").encode("utf-8", "surrogateescape"))
    except PostmapError:
        mode, uid, gid = attrs
        restore = table.temp_source(before_text, mode, uid, gid)
        table.build_index(restore)
        table.swap_in(restore)
        table.done()
        raise
    table.match_index(table.path)
    # The in-place update leaves the index newer than the source, as Postfix expects.


def _uid(module, owner):
    import pwd  # pylint: disable=import-outside-toplevel

    try:
        return int(owner) if str(owner).isdigit() else pwd.getpwnam(owner).pw_uid
    except KeyError:
        module.fail_json(msg="owner %s does not exist" % owner)


def _gid(module, group):
    import grp  # pylint: disable=import-outside-toplevel

    try:
        return int(group) if str(group).isdigit() else grp.getgrnam(group).gr_gid
    except KeyError:
        module.fail_json(msg="group %s does not exist" % group)


if __name__ == "__main__":
    main()
