"""http(s) sources in the pyarrow_files adapter, against a real local HTTP server: sizes, ranged
reads, a server without ranges, and the errors a caller or the queue acts on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adapters.pyarrow_files.csv_scan import csv_layout
from adapters.pyarrow_files.describe import describe
from adapters.pyarrow_files.locations import RemoteConfig, expand, open_binary, size
from adapters.pyarrow_files.url_guard import HostPolicy
from domain.types.errors import InvalidSpec, TransientError
from domain.types.ingestion import SourceFormat
from tests.support.http_files import FileServer

pytestmark = pytest.mark.integration
ROWS = 20_000
LOOPBACK = RemoteConfig(hosts=HostPolicy(private_hosts=True))  # the test server listens on 127.0.0.1


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("served")
    ids = list(range(ROWS))
    pq.write_table(pa.table({"id": ids, "name": [f"name-{i:06d}" for i in ids]}), folder / "rows.parquet",
                   row_group_size=2_000, compression="none")
    (folder / "rows.csv").write_text("id,name\n" + "".join(f"{i},name-{i:06d}\n" for i in ids))
    (folder / "empty.csv").write_text("")
    return folder


@pytest.fixture(params=[True, False], ids=["ranges", "no-ranges"])
def server(root: Path, request: pytest.FixtureRequest) -> Iterator[FileServer]:
    with FileServer(root, ranges=request.param) as running:
        yield running


def test_describe_and_layout_read_a_url_like_a_file(server: FileServer, root: Path) -> None:
    url = server.url("rows.csv")
    assert expand(url, LOOPBACK) == [url] and size(url, LOOPBACK) == (root / "rows.csv").stat().st_size
    source = describe(url, SourceFormat.AUTO, LOOPBACK)
    assert source.format is SourceFormat.CSV and source.columns == ("id", "name") and source.types["id"] == "int64"
    layout = csv_layout(url, [source.size // 2], LOOPBACK)
    text = (root / "rows.csv").read_bytes()
    assert layout.cuts[1] > 0 and text[layout.cuts[1] - 1: layout.cuts[1]] == b"\n"
    assert layout.lines[1] == text[: layout.cuts[1]].count(b"\n") + 1 and not layout.quoted_newlines
    parquet = describe(server.url("rows.parquet"), SourceFormat.AUTO, LOOPBACK)
    assert parquet.format is SourceFormat.PARQUET and len(parquet.row_groups) == 10


def test_a_parquet_row_group_is_read_without_fetching_the_whole_file(server: FileServer, root: Path) -> None:
    with open_binary(server.url("rows.parquet"), LOOPBACK) as handle:
        table = pq.ParquetFile(handle).read_row_group(7)
    assert table.column("id").to_pylist() == list(range(14_000, 16_000))
    if server.ranges:  # only the footer and the row group: far fewer bytes than the file holds
        spans = [r.removeprefix("bytes=").split("-") for r in server.ranged("rows.parquet")]
        fetched = sum(int(end) - int(start) + 1 for start, end in spans)
        assert fetched < (root / "rows.parquet").stat().st_size / 2, spans


def test_a_byte_range_streams_from_its_offset(server: FileServer, root: Path) -> None:
    data = (root / "rows.csv").read_bytes()
    with open_binary(server.url("rows.csv"), LOOPBACK) as handle:
        handle.seek(100_000)
        assert handle.read(50_000) == data[100_000:150_000]
        handle.seek(10)  # backwards: a new request (or, without ranges, a new stream)
        assert handle.read(20) == data[10:30]


def test_a_missing_or_unreachable_url_is_a_4xx_naming_it(server: FileServer) -> None:
    missing = server.url("nope.csv")
    with pytest.raises(InvalidSpec, match=r"nope\.csv answered HTTP 404") as error:
        expand(missing, LOOPBACK)
    assert error.value.details == {"field": "sources", "source": missing, "status": 404}
    with pytest.raises(InvalidSpec, match=r"127\.0\.0\.1:9/x\.csv is not reachable"):
        expand("http://127.0.0.1:9/x.csv", LOOPBACK)
    assert expand(server.url("empty.csv"), LOOPBACK) and size(server.url("empty.csv"), LOOPBACK) == 0


def test_a_failing_server_while_reading_is_transient(server: FileServer) -> None:
    with open_binary(server.url("rows.parquet"), LOOPBACK) as handle:
        file = pq.ParquetFile(handle)
        server.failures = 1
        handle.seek(0)  # drop what the buffer holds, so the next read asks the server
        with pytest.raises(TransientError, match="503"):
            file.read_row_group(3)
        assert file.read_row_group(3).num_rows == 2_000  # the next try succeeds
