"""Packing small files into shared model calls: every chunk once, within budget, findings attributed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.diff.chunk import chunk_file
from app.diff.model import Chunk, FileDiff
from app.diff.pack import attribute, pack_chunks, render_pack
from app.diff.parse import parse_file_patch
from app.diff.render import render_chunk


def small(path: str, text: str = "x = 1") -> Chunk:
    file = parse_file_patch(path, f"@@ -0,0 +1,2 @@\n+{text}\n+y = 2\n", status="added")
    [chunk] = chunk_file(file, 12_000)
    return chunk


def test_small_files_share_packs_grouped_by_language_then_directory() -> None:
    chunks = [small("web/a.ts"), small("app/b.py"), small("lib/c.py"), small("app/a.py"), small("web/b.ts")]
    packs = pack_chunks(chunks, 12_000)
    # Sorted by language, then directory, then path; a pack with room goes on into the next group.
    assert [p.paths for p in packs] == [["app/a.py", "app/b.py", "lib/c.py", "web/a.ts", "web/b.ts"]]
    tight = pack_chunks(chunks, chunks[0].tokens * 3 + 2)
    assert [p.paths for p in tight] == [["app/a.py", "app/b.py", "lib/c.py"], ["web/a.ts", "web/b.ts"]]


def test_packs_respect_the_budget_and_the_file_cap() -> None:
    chunks = [small(f"app/m{i:02}.py") for i in range(30)]
    each = chunks[0].tokens
    packs = pack_chunks(chunks, budget_tokens=each * 4 + 3)
    assert all(p.tokens <= each * 4 + 3 for p in packs)
    assert [len(p.chunks) for p in packs] == [4] * 7 + [2]
    assert [len(p.chunks) for p in pack_chunks(chunks, 1_000_000, max_files=12)] == [12, 12, 6]


def test_split_files_and_big_chunks_keep_a_call_of_their_own() -> None:
    big = "\n".join(f"+line_{i} = {i} * 2" for i in range(400))
    file = parse_file_patch("app/big.py", f"@@ -0,0 +1,400 @@\n{big}\n", status="added")
    parts = chunk_file(file, 1_000)
    assert len(parts) > 1
    packs = pack_chunks([*parts, small("app/s.py")], 1_000)
    assert [p.paths for p in packs][: len(parts)] == [["app/big.py"]] * len(parts)
    assert packs[-1].paths == ["app/s.py"]


def test_render_pack_is_each_chunk_rendered_in_order() -> None:
    a, b = small("app/a.py"), small("app/b.py")
    [pack] = pack_chunks([b, a], 12_000)
    assert render_pack(pack) == render_chunk(a) + "\n" + render_chunk(b)


def test_attribute_trusts_a_member_path_unless_only_another_member_shows_the_quote() -> None:
    a, b = small("app/a.py", "alpha = 1"), small("app/b.py", "beta = 2")
    [pack] = pack_chunks([a, b], 12_000)
    assert attribute(pack, "app/b.py", "new", 1, "beta = 2") is b
    assert attribute(pack, "app/a.py", "new", 1, "beta = 2") is b  # the wrong member's path, b's line
    assert attribute(pack, "app/a.py", "new", 2, "y = 2") is a  # both show it: the named one
    assert attribute(pack, "app/a.py", "new", 1, "y = 2") is a  # a shows it elsewhere: a wrong line
    assert attribute(pack, "app/a.py", "new", 9, "nowhere") is a  # placement re-anchors or notes it
    assert attribute(pack, "elsewhere.py", "new", 1, "beta = 2") is None  # never guessed into the pack
    [alone] = pack_chunks([a], 12_000)
    assert attribute(alone, "app/a.py", "new", 1, "beta = 2") is a


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["app", "lib", "web/ui"]), st.sampled_from(["py", "ts", "go"]), st.integers(1, 60)
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(300, 4_000),
)
def test_every_chunk_lands_in_exactly_one_pack_within_budget(
    specs: list[tuple[str, str, int]], budget: int
) -> None:
    chunks: list[Chunk] = []
    for index, (folder, ext, size) in enumerate(specs):
        body = "\n".join(f"+v{i} = {i}" for i in range(size))
        file: FileDiff = parse_file_patch(
            f"{folder}/f{index}.{ext}", f"@@ -0,0 +1,{size} @@\n{body}\n", status="added"
        )
        chunks.extend(chunk_file(file, budget))
    packs = pack_chunks(chunks, budget)
    ids = sorted(id(c) for p in packs for c in p.chunks)
    assert ids == sorted(id(c) for c in chunks)
    for pack in packs:
        assert pack.chunks
        assert len(pack.chunks) == 1 or pack.tokens <= budget
