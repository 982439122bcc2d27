"""Small Arrow helpers the loaders share: joining chunks, masks, distinct values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def flat(values) -> pa.Array:
    """One contiguous Arrow array (a ChunkedArray's chunks joined)."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def encoded(values) -> pa.DictionaryArray:
    """``values`` dictionary-encoded as one array (chunks share one dictionary)."""
    if isinstance(values, pa.ChunkedArray):
        if not pa.types.is_dictionary(values.type):  # one table of distinct values, not one per chunk
            return values.combine_chunks().dictionary_encode()
        if values.num_chunks == 0:
            return pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], values.type.value_type))
        return values.unify_dictionaries().combine_chunks()
    return values if pa.types.is_dictionary(values.type) else values.dictionary_encode()


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


def equals(values, value: str) -> np.ndarray:
    """Where ``values`` holds ``value``, as a numpy mask (null: False). A dictionary
    array is compared on its dictionary, not decoded row by row."""
    if isinstance(values, pa.DictionaryArray):
        if len(values.dictionary) == 0:  # every row null
            return np.zeros(len(values), dtype=bool)
        hit = mask_of(pc.equal(values.dictionary, value))[pc.fill_null(values.indices, 0).to_numpy()]
        return hit & mask_of(pc.is_valid(values)) if values.null_count else hit
    return mask_of(pc.equal(values, value))
