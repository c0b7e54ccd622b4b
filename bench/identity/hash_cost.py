#!/usr/bin/python3
"""Report the bcrypt costs of the password hashes stored in a server's SQLite database, to
confirm both servers hash with the same cost. Reads the file only (no schema assumed: every
text column of every table is scanned for '$2a$/$2b$/$2y$NN$' values).

  hash_cost.py DB_FILE   -> prints JSON {"db": ..., "bcrypt_costs": {"12": 3, ...}}"""
import json, re, sqlite3, sys

db = sys.argv[1]
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
pat = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
costs = {}
for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
    cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
    for c in cols:
        for (v,) in con.execute(f'SELECT "{c}" FROM "{table}" WHERE typeof("{c}")=\'text\' '
                                f'AND "{c}" LIKE \'$2%\''):
            m = pat.match(v)
            if m:
                costs[m.group(1)] = costs.get(m.group(1), 0) + 1
print(json.dumps({"db": db, "bcrypt_costs": costs}))
