"""Small Arrow helpers the loaders share: joining chunks, masks, distinct values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def flat(values) -> pa.Array:
    """One contiguous Arrow array (a ChunkedArray's chunks joined)."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def mask_of(mask) -> np.ndarray:
    """A numpy bool array from an Arrow or numpy mask (null counts as False)."""
    if isinstance(mask, (pa.Array, pa.ChunkedArray)):
        return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
    return np.asarray(mask, dtype=bool)


def distinct(values) -> tuple[np.ndarray, list]:
    """``(codes, uniques)``: each row's index into the list of distinct values."""
    if isinstance(values, pa.ChunkedArray):
        chunks = pc.dictionary_encode(values).unify_dictionaries().chunks if len(values) else []
        if not chunks:
            return np.zeros(0, dtype=np.int32), []
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
        return codes, chunks[0].dictionary.to_pylist()
    d = values.dictionary_encode()
    return d.indices.to_numpy(zero_copy_only=False), d.dictionary.to_pylist()


def numbers(values: np.ndarray) -> pa.Array:
    """float64 Arrow array with null where ``values`` is NaN (missing, not a number).
    The numbers are not copied: the array is built on ``values``' buffer and a bitmap."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    valid = ~np.isnan(values)
    missing = len(values) - int(np.count_nonzero(valid))
    if not missing:
        return pa.array(values, pa.float64())
    bitmap = np.packbits(valid, bitorder="little")
    return pa.Array.from_buffers(pa.float64(), len(values), [pa.py_buffer(bitmap), pa.py_buffer(values)],
                                 null_count=missing)
