# Test helper of the molecule "dbtables" scenario (copied to the mail
# hosts): prints one "domain/user|subject" line per message in the Maildirs
# under the mailbox base (argv[1]) whose subject starts with argv[2], sorted,
# so that a duplicate shows twice and a misrouted copy under its mailbox.
import os
import sys


def subject(path):
    with open(path, "rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                return None
            if line.lower().startswith("subject:"):
                return line.split(":", 1)[1].strip()
    return None


def main():
    base, prefix = sys.argv[1], sys.argv[2]
    lines = []
    for domain in sorted(os.listdir(base)):
        for user in sorted(os.listdir(os.path.join(base, domain))):
            for sub in ("new", "cur"):
                directory = os.path.join(base, domain, user, sub)
                if not os.path.isdir(directory):
                    continue
                for name in os.listdir(directory):
                    found = subject(os.path.join(directory, name))
                    if found and found.startswith(prefix):
                        lines.append("%s/%s|%s" % (domain, user, found))
    sys.stdout.write("".join(line + "\n" for line in sorted(lines)))


if __name__ == "__main__":
    main()
