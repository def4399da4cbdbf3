"""A fake database for _sql_rows' session: rows {(scope, map, key): value}, answering the core's reads as the server
does (each SELECT filters on its parameter scope) and applying its writes on commit (the statements' JSON
parameters, the bulk rows). Used by the core's tests and by the network_tables action's tests."""
import json

from ansible_collections.vhosting.postfix.plugins.module_utils import _network_tables as nt


class FakeSqlSession(object):
    def __init__(self, rows=None, present=True, scoped=True, writable=False, mysql=False):
        self.data = dict(rows or {})
        self.present, self.scoped, self.writable, self.mysql = present, scoped, writable, mysql
        self.log, self.pending = [], []
        self.digest_reads = self.rows_read = 0

    def rows(self, query, params):
        self.log.append(("read", query, params))
        if "present" in query:
            return [{"present": int(self.present), "scoped": int(self.scoped), "writable": int(self.writable)}]
        assert "WHERE scope = %(scope)s" in query, query
        mine = {}
        for (scope, m, k), v in self.data.items():
            if scope == params["scope"]:
                mine.setdefault(m, {})[k] = v
        if query.upper().startswith("SELECT SUBSTR(MD5"):
            # The digest of each key range (hex from PostgreSQL's to_hex, decimal from MariaDB), by the definition.
            self.digest_reads += 1
            return [{"bucket": b, "digest": str(d) if self.mysql else "%x" % d}
                    for b, d in sorted(nt.bucket_digests(mine).items())]
        assert query.startswith("SELECT map_name"), query
        wanted = set(json.loads(params["buckets"]))
        result = [{"map_name": m, "lookup_key": k, "lookup_value": v}
                  for m, keys in sorted(mine.items()) for k, v in sorted(keys.items()) if nt.bucket(k) in wanted]
        self.rows_read += len(result)
        return result

    def run(self, statements, params):
        self.log.append(("run", statements, params))
        self.pending.append(("run", statements, params))

    def insert(self, table, rows):
        self.log.append(("insert", table, rows))
        self.pending.append(("insert", table, rows))

    def commit(self):
        """Applies what the statements say (their JSON parameters read as the server would)."""
        self.log.append(("commit",))
        for entry in self.pending:
            if entry[0] == "insert":
                for scope, m, k, v in entry[2]:
                    assert (scope, m, k) not in self.data, "a new row that is there already"
                    self.data[(scope, m, k)] = v
            elif entry[2]:
                scope = entry[2]["scope"]
                for item in json.loads(entry[2]["remove"]):
                    del self.data[(scope, item["m"], item["k"])]
                for item in json.loads(entry[2]["upsert"]):
                    self.data[(scope, item["m"], item["k"])] = item["v"]
            else:
                self.present = True  # the schema
        self.pending = []

    def writes(self):
        return [e for e in self.log if e[0] != "read"]

    def reads(self):
        return [e for e in self.log if e[0] == "read"]
