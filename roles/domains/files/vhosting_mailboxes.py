# Create the virtual mailboxes ahead of time, in one process for any number of
# them (run on the managed host by the vhosting.postfix.domains role).
#
# Reads JSON on stdin: {"base": "/var/mail/vhosts", "uid": 5000, "gid": 5000,
# "check": false, "mailboxes": [["example.com/alice/", true], ...]}
# (path relative to base, Maildir flag). Creates what is missing and corrects
# the owner and mode of each mailbox (Maildir: the directory and its cur/ new/
# tmp/ subdirectories, 0700; mbox: the file, 0600); never deletes anything and
# never touches the mail inside. Missing parent directories are created as
# uid:gid 0700. Symbolic links are refused. Prints JSON: changed,
# created_count, fixed_count, created and fixed (paths, the first 200), and
# exits 1 with "failed" and "msg" on error.
import json
import os
import stat
import sys

LIST_MAX = 200


def main():
    req = json.load(sys.stdin)
    base = req["base"].rstrip("/")
    uid, gid, check = int(req["uid"]), int(req["gid"]), bool(req["check"])
    created, fixed = [], []
    planned = set()  # check mode: paths that would have been created

    def inspect(path):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode):
            raise RuntimeError("%s is a symbolic link; refusing to use it as (part of) a mailbox" % path)
        return st

    def ensure(path, is_dir, mode, enforce):
        if path in planned:
            return
        st = inspect(path)
        if st is None:
            created.append(path)
            if check:
                planned.add(path)
                return
            if is_dir:
                os.mkdir(path, mode)
            else:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
                os.close(fd)
            os.lchown(path, uid, gid)
            os.chmod(path, mode)
            return
        if is_dir != stat.S_ISDIR(st.st_mode):
            raise RuntimeError("%s exists but is not a %s" % (path, "directory" if is_dir else "regular file"))
        if enforce and (st.st_uid != uid or st.st_gid != gid or stat.S_IMODE(st.st_mode) != mode):
            fixed.append(path)
            if not check:
                os.lchown(path, uid, gid)
                os.chmod(path, mode)

    if inspect(base) is None and not check:
        raise RuntimeError("mailbox base %s does not exist" % base)
    for rel, maildir in req["mailboxes"]:
        parts = rel.rstrip("/").split("/")
        if rel.startswith("/") or ".." in parts or "" in parts:
            raise RuntimeError("unsafe mailbox path %r" % rel)
        current = base
        for part in parts[:-1]:
            current = os.path.join(current, part)
            ensure(current, True, 0o700, False)
        target = os.path.join(base, *parts)
        if maildir:
            ensure(target, True, 0o700, True)
            for sub in ("cur", "new", "tmp"):
                ensure(os.path.join(target, sub), True, 0o700, True)
        else:
            ensure(target, False, 0o600, True)
    # Counts are complete; the path lists are capped to keep the output small
    # with tens of thousands of mailboxes.
    json.dump({"changed": bool(created or fixed), "created_count": len(created), "fixed_count": len(fixed),
               "created": created[:LIST_MAX], "fixed": fixed[:LIST_MAX]}, sys.stdout)


try:
    main()
except Exception as exc:  # report any failure as JSON for the role's task
    json.dump({"failed": True, "msg": "%s: %s" % (type(exc).__name__, exc)}, sys.stdout)
    sys.exit(1)
