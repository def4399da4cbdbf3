"""Installed on the primary by molecule/faults/verify.yml.

    python3 faults-copies.py SERVER MAILDIR...

Reads the header of every message file under the given Maildirs and prints
one JSON object: the number of files ("files"), of distinct queue ids that
SERVER's Postfix gave them (its Received: header, "by SERVER (Postfix) with
SMTP id ID"; "queue_ids"), of distinct (queue id, Message-Id) pairs
("distinct"), of files without either ("unparsed"), and the queue ids found
on more than one file with their Message-Ids ("shared_ids"). A message delivered twice is two
files with the same pair. Postfix's short queue ids are unique only while a
message is queued (they are made of the time's microseconds and the queue
file's inode number), so two different messages may share one: their
Message-Ids differ.
"""
import json
import os
import re
import sys

server, boxes = sys.argv[1], sys.argv[2:]
by = re.compile(r"\sby %s \(Postfix\) with E?SMTP id ([0-9A-Za-z]+)" % re.escape(server))
files, unparsed, pairs, ids = 0, 0, set(), {}
for box in boxes:
    for sub in ("new", "cur"):
        folder = os.path.join(box, sub)
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), "rb") as handle:
                head = handle.read(65536).split(b"\n\n", 1)[0].decode("ascii", "replace")
            files += 1
            queue_id = by.search(head)
            message_id = re.search(r"(?im)^Message-Id:\s*(\S+)", head)
            if not queue_id or not message_id:
                unparsed += 1
                continue
            pair = (queue_id.group(1), message_id.group(1))
            pairs.add(pair)
            ids.setdefault(pair[0], set()).add(pair[1])
shared = dict((k, sorted(v)) for k, v in sorted(ids.items()) if len(v) > 1)
print(json.dumps({"files": files, "queue_ids": len(ids), "distinct": len(pairs), "unparsed": unparsed,
                  "shared_ids": dict(list(shared.items())[:10])}))
