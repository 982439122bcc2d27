"""The compile style of every numba kernel (graph/kernels.py): lazy, cached, callable as Python."""

import subprocess
import sys

import numpy as np

from dealgraph.graph.arrays import strong_components
from dealgraph.graph.kernels import Kernel

IMPORTS_THEN_RUN = """
import sys
import dealgraph.cli.main, dealgraph.graph.arrays, dealgraph.queries.circular, dealgraph.queries.roundtrip
print('numba' in sys.modules)
import pandas as pd
from dealgraph.queries.circular import circular_flows
df = pd.DataFrame({"deal_id": ["a", "b"], "date": ["2024", "2024"], "payer": ["x", "y"], "payee": ["y", "x"],
                   "amount_usd": [1.0, 2.0], "status": ["completed", "completed"]})
print(circular_flows(df, max_length=3).attrs["total_cycles"], 'numba' in sys.modules)
"""


def test_importing_kernel_modules_does_not_import_numba():
    """`dealgraph deals` and small searches must not pay for numba's import (~0.5-1 s):
    the kernels import it on their first call only."""
    out = subprocess.run([sys.executable, "-c", IMPORTS_THEN_RUN], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "1", "True"]


def test_kernel_runs_compiled_and_as_python():
    assert isinstance(strong_components, Kernel)
    indptr = np.array([0, 1, 2, 3, 3], np.int64)
    indices = np.array([1, 0, 3], np.int64)  # 0 <-> 1, 2 -> 3
    compiled = strong_components(4, indptr, indices)
    plain = strong_components.py_func(4, indptr, indices)
    assert compiled.tolist() == plain.tolist()
    assert compiled[0] == compiled[1] and len({compiled[1], compiled[2], compiled[3]}) == 3
    assert "strong_components" in repr(strong_components)
