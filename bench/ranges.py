"""The cost of amount intervals at 1M deals: parse, add vs a bare read, store.deals (BENCHMARKS.md,
"Amount ranges"). Usage: python bench/ranges.py DIR  (DIR from `dealgraph synth --deals 1000000
--entities 100000 --seed 7 -o DIR`); run it under another checkout (PYTHONPATH) for the before column.
Prints one JSON line."""
import os, sys, time, json, tempfile
import numpy as np, pyarrow as pa
from dealgraph.loaders.amounts import parse_amounts
from dealgraph.graph.store import open_store
import pandas as pd
big = sys.argv[1]
# parse: a million plain amounts
cells = pa.array([str(x) for x in np.random.default_rng(1).integers(1, 10**12, 1_000_000)])
parse_amounts(cells)
t = [];
for _ in range(5):
    t0 = time.perf_counter(); parse_amounts(cells); t.append(time.perf_counter() - t0)
out = {"parse_1M_plain_s": sorted(t)[2]}
try:
    t = []
    for _ in range(5):
        t0 = time.perf_counter(); parse_amounts(cells, bounds=True); t.append(time.perf_counter() - t0)
    out["parse_1M_plain_bounds_s"] = sorted(t)[2]
except TypeError:
    pass
# add 1M deals into a store holding the entities, vs a bare read
d = tempfile.mkdtemp(dir=big)
db = os.path.join(d, "b.db")
s = open_store(db, seed=False)
s.add([os.path.join(big, "entities.csv")])
t0 = time.perf_counter(); pd.read_csv(os.path.join(big, "deals.csv"), engine="pyarrow"); out["bare_read_s"] = time.perf_counter() - t0
t0 = time.perf_counter(); s.add([os.path.join(big, "deals.csv")]); out["add_s"] = time.perf_counter() - t0
out["ratio"] = out["add_s"] / out["bare_read_s"]
out["db_mb"] = os.path.getsize(db) / 1e6
s2 = open_store(db, seed=False)
t0 = time.perf_counter(); n = len(s2.deals); out["read_deals_s"] = time.perf_counter() - t0
print(json.dumps(out))
