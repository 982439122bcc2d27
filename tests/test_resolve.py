"""The vectorised loader helpers against plain-Python brute force."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from dealgraph.loaders.resolve import EntityIndex, entity_lookup, same_values
from dealgraph.loaders.validate import slugify, strictly_increasing

names = st.sampled_from(["Nvidia", "nvidia", "NVIDIA Corp", "OpenAI", "open-ai", "Groq", " groq ", "x", "", "Ünïcode"])


@settings(max_examples=200, deadline=None)
@given(a=st.lists(st.one_of(st.none(), names), max_size=30), data=st.data())
def test_same_values_equals_comparing_the_decoded_text(a, data):
    b = data.draw(st.lists(st.one_of(st.none(), names), min_size=len(a), max_size=len(a)))
    da = pa.array(a, pa.string()).dictionary_encode()
    db = pa.array(b, pa.string()).dictionary_encode()
    want = [x is not None and y is not None and x == y for x, y in zip(a, b)]
    assert same_values(da, db).tolist() == want
    # dictionaries that hold a value twice (two names resolved to one id), and in chunks
    def repeated(d):
        return pa.DictionaryArray.from_arrays(d.indices, pc.utf8_lower(pc.utf8_trim_whitespace(d.dictionary)))
    want = [x is not None and y is not None and x.strip().lower() == y.strip().lower() for x, y in zip(a, b)]
    assert same_values(repeated(da), repeated(db)).tolist() == want
    half = len(a) // 2
    chunked = pa.chunked_array([repeated(pa.array(a[:half], pa.string()).dictionary_encode()),
                                repeated(pa.array(a[half:], pa.string()).dictionary_encode())])
    assert same_values(chunked, repeated(db)).tolist() == want


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.lists(st.text(max_size=3), max_size=5), max_size=5))
def test_strictly_increasing_across_chunks(chunks):
    flat = [x for c in chunks for x in c]
    want = all(x.encode() < y.encode() for x, y in zip(flat, flat[1:]))
    assert strictly_increasing(pa.chunked_array(chunks, pa.string())) == want


ENTITIES = pa.table({
    "id": ["nvidia", "openai", "groq", "scale-ai"],
    "name": ["Nvidia", "OpenAI", "Groq", "Scale AI"],
    "aliases": ["NVIDIA Corporation;Nvidia Corp", "Open AI", "OpenAI;Scale;nvidia", "Scale"],
})


def _brute(refs: list[str], strict: bool) -> tuple[list[str | None], dict[str, str]]:
    """The rule of entity_lookup, one name at a time, creating slugs for unknown names."""
    look = entity_lookup(ENTITIES)
    created: dict[str, str] = {}
    out = []
    for r in refs:
        if r == "":
            out.append(None)
            continue
        ident = look.get(r.strip().lower())
        if ident is None and not strict:
            ident = look.get(slugify(r)) or slugify(r)
            if ident not in look.values() and ident not in created:
                created[ident] = r.strip()
            look[r.strip().lower()] = look[slugify(r)] = ident
        out.append(ident)
    return out, created


@settings(max_examples=200, deadline=None)
@given(refs=st.lists(st.sampled_from(["Nvidia", "nvidia ", "NVIDIA Corporation", "open ai", "OpenAI", "groq",
                                      "Scale", "scale-ai", "Scale AI", "Cerebras", "cerebras", "", "New Co",
                                      "new-co"]), max_size=25),
       strict=st.booleans())
def test_entity_index_matches_one_name_at_a_time(refs, strict):
    index = EntityIndex(ENTITIES)
    ids, unknown = index.resolve(pa.array(refs, pa.string()), strict=strict)
    want, created = _brute(refs, strict)
    assert ids.to_pylist() == want
    assert unknown.tolist() == [r != "" and w is None for r, w in zip(refs, want)]
    assert index.created == created


def test_a_name_close_to_a_known_entity_is_held_back_unless_accepted():
    refs = pa.array(["Nvidai", "Nvidia Corp.", "Cerebras"], pa.string())
    index = EntityIndex(ENTITIES)
    ids, unknown = index.resolve(refs, strict=False)
    assert ids.to_pylist() == [None, None, "cerebras"] and unknown.tolist() == [True, True, False]
    # (this table's groq has the alias "nvidia": both are as close, named by id)
    assert [m[:2] for m in index.near["Nvidai"]] == [("groq", "Groq"), ("nvidia", "Nvidia")]
    assert index.unknown_reason("Nvidai", strict=False).startswith(
        "unknown entity 'Nvidai': did you mean 'groq' (Groq) or 'nvidia' (Nvidia)? If it is a new entity")
    accepted = EntityIndex(ENTITIES, new_entities=["nvidai ", "NVIDIA CORP."])
    ids, unknown = accepted.resolve(refs, strict=False)
    assert ids.to_pylist() == ["nvidai", "nvidia-corp", "cerebras"] and not unknown.any()
