#!/usr/bin/python3
"""The same ceiling as bcrypt_floor.c, with python3-bcrypt (OpenBSD's bcrypt in C, the library
Keystone verifies passwords with): PROCS processes each doing N checkpw() at the given cost.

  bcrypt_floor.py PROCS VERIFIES_PER_PROC [COST]     -> one JSON object"""
import bcrypt, json, os, sys, time

procs, n = int(sys.argv[1]), int(sys.argv[2])
cost = int(sys.argv[3]) if len(sys.argv) > 3 else 12
pw = b"bench-user-pw"
h = bcrypt.hashpw(pw, bcrypt.gensalt(cost))
t0, c0 = time.monotonic(), os.times()
kids = []
for _ in range(procs):
    pid = os.fork()
    if pid == 0:
        ok = all(bcrypt.checkpw(pw, h) for _ in range(n))
        os._exit(0 if ok else 1)
    kids.append(pid)
fails = sum(1 for p in kids if os.waitpid(p, 0)[1] != 0)
wall = time.monotonic() - t0
c1 = os.times()
cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
print(json.dumps({"impl": f"python3-bcrypt {bcrypt.__version__}", "cost": cost, "threads": procs,
                  "verifies": procs * n, "failures": fails, "wall_s": round(wall, 3),
                  "cpu_s": round(cpu, 3), "per_s": round(procs * n / wall, 2),
                  "cpu_ms_each": round(cpu * 1000 / (procs * n), 1)}))
