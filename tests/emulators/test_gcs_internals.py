"""The GCS emulator's building blocks, without HTTP: store, listing, parsing, faults."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from emulators.gcs import checksums
from emulators.gcs.backends import DirectoryBackend, MemoryBackend
from emulators.gcs.checksums import crc32c_b64, md5_b64, parse_goog_hash
from emulators.gcs.errors import GcsError
from emulators.gcs.faults import FaultConfig, FaultInjector, matches
from emulators.gcs.listing import ListSpec, list_page
from emulators.gcs.model import ObjectVersion
from emulators.gcs.multipart import parse_related
from emulators.gcs.preconditions import Preconditions
from emulators.gcs.resumable import UploadSession
from emulators.gcs.store import Store

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(30)]


def test_checksums_use_gcs_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    # CRC32C("123456789") is the standard check value 0xE3069283, sent big-endian.
    assert crc32c_b64(b"123456789") == "4waSgw=="
    monkeypatch.setattr(checksums, "_fast_crc32c", None)  # the pure-Python fallback agrees
    assert crc32c_b64(b"123456789") == "4waSgw=="
    assert md5_b64(b"") == "1B2M2Y8AsgTpgAmY7PhCfg=="  # d41d8cd9...
    assert parse_goog_hash("crc32c=AAAAAA==,md5=abc==") == {"crc32c": "AAAAAA==", "md5": "abc=="}


def _obj(name: str, generation: int = 1, metageneration: int = 1) -> ObjectVersion:
    return ObjectVersion("b", name, generation, 0, "", "", "t", "t", metageneration)


@pytest.mark.parametrize(
    ("pre", "obj", "write", "status"),
    [
        (Preconditions(generation_match=0), None, True, None),
        (Preconditions(generation_match=0), _obj("x"), True, 412),
        (Preconditions(generation_match=5), _obj("x", 5), True, None),
        (Preconditions(generation_match=5), _obj("x", 6), True, 412),
        (Preconditions(generation_not_match=5), _obj("x", 5), False, 304),
        (Preconditions(generation_not_match=5), _obj("x", 5), True, 412),
        (Preconditions(generation_not_match=0), None, True, 412),
        (Preconditions(metageneration_match=2), _obj("x", 1, 2), True, None),
        (Preconditions(metageneration_match=2), None, True, 412),
        (Preconditions(metageneration_not_match=1), _obj("x"), True, 412),
    ],
)
def test_preconditions(pre: Preconditions, obj: ObjectVersion | None, write: bool,
                       status: int | None) -> None:
    if status is None:
        pre.check(obj, write=write)
    else:
        with pytest.raises(GcsError) as caught:
            pre.check(obj, write=write)
        assert caught.value.status == status


def test_preconditions_accept_both_spellings() -> None:
    query = {"ifMetaGenerationNotMatch": "3", "ifSourceGenerationMatch": "7"}
    assert Preconditions.from_query(query).metageneration_not_match == 3
    assert Preconditions.from_query(query, source=True).generation_match == 7


def test_listing_pages_never_repeat_or_lose_entries() -> None:
    names = sorted(["a/1", "a/2", "a/b/3", "b", "c/1", "c/2", "d"])
    objects = [_obj(n) for n in names]
    spec = ListSpec(delimiter="/")
    seen_items, seen_prefixes, token, pages = [], [], None, 0
    while True:
        page = list_page(objects, spec, 2, token)
        pages += 1
        seen_items += [o.name for o in page.items]
        seen_prefixes += page.prefixes
        assert len(page.items) + len(page.prefixes) <= 2
        token = page.next_token
        if token is None:
            break
    assert (seen_items, seen_prefixes, pages) == (["b", "d"], ["a/", "c/"], 2)


def test_multipart_body_is_parsed_verbatim() -> None:
    media = b"\r\n--not-the-boundary\r\nbinary\x00"
    body = (b'--==b==\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n{"name": "o"}\r\n'
            b"--==b==\r\ncontent-type: image/png\r\n\r\n" + media + b"\r\n--==b==--\r\n")
    metadata, data, content_type = parse_related(body, 'multipart/related; boundary="==b=="')
    assert (metadata, data, content_type) == ({"name": "o"}, media, "image/png")


def test_resumable_session_appends_only_new_bytes() -> None:
    session = UploadSession("id", "b", "o", {}, Preconditions(), {})
    assert not session.accept("bytes 0-2/*", b"abc")
    assert not session.accept("bytes 1-3/*", b"bcd")  # a resend that overlaps
    assert not session.accept("bytes */*", b"")
    assert session.accept("bytes 4-5/6", b"ef")
    assert bytes(session.buffer) == b"abcdef"
    with pytest.raises(GcsError):
        UploadSession("id", "b", "o", {}, Preconditions(), {}).accept("bytes 5-6/*", b"xy")


def test_fault_matching_and_seeded_reproducibility() -> None:
    assert matches("upload", "upload.chunk") and matches("*", "download")
    assert not matches("upload", "download") and not matches("object", "objects.get")
    config = FaultConfig(error_rate=0.3, seed=42)
    runs = []
    for _ in range(2):
        injector = FaultInjector(config)
        runs.append([injector.should_fail("download") for _ in range(200)])
    assert runs[0] == runs[1] and 30 < sum(runs[0]) < 90
    nth = FaultInjector(FaultConfig(fail_nth={"operation": "upload", "n": 2}))
    assert [nth.should_fail(op) for op in ["download", "upload", "upload.chunk", "upload"]] == [
        False, False, True, False]
    with pytest.raises(GcsError):
        FaultConfig.from_json({"error_rate": 0.1, "bogus": 1})


@pytest.mark.parametrize("backend_kind", ["memory", "directory"])
async def test_concurrent_create_only_has_exactly_one_winner(backend_kind: str,
                                                            tmp_path: Path) -> None:
    backend = DirectoryBackend(tmp_path) if backend_kind == "directory" else MemoryBackend()
    store = Store(backend)
    await store.create_bucket("race", "p", {})

    async def attempt(index: int) -> int | None:
        try:
            obj = await store.put_object("race", "key", f"w{index}".encode(), {},
                                         Preconditions(generation_match=0))
        except GcsError as err:
            assert err.status == 412
            return None
        return obj.generation

    results = await asyncio.gather(*(attempt(i) for i in range(20)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    gens = await asyncio.gather(*(store.put_object("race", "key", b"x", {}, Preconditions())
                                  for _ in range(10)))
    assert len({o.generation for o in gens}) == 10 and min(o.generation for o in gens) > winners[0]
    assert store.live("race", "key").generation == max(o.generation for o in gens)
    if backend_kind == "directory":  # a fresh store sees exactly the live version
        reloaded = Store(DirectoryBackend(tmp_path))
        assert reloaded.live("race", "key").generation == max(o.generation for o in gens)
        assert len(reloaded.objects["race"]["key"]) == 1


async def test_latency_is_applied_before_each_request() -> None:
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    injector = FaultInjector(FaultConfig(latency_ms=250), sleep=record)
    for operation in ("download", "upload"):
        assert await injector.apply(None, operation) is None  # type: ignore[arg-type]
    assert slept == [0.25, 0.25]
