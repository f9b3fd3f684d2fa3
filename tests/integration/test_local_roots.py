"""LocalRoots on a real filesystem: a root that is itself a symlink works through either spelling,
and a link inside a root that leads out of it is still refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.pyarrow_files.local_roots import LocalRoots
from adapters.pyarrow_files.locations import expand
from domain.types.errors import InvalidSpec

pytestmark = pytest.mark.integration


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "disk" / "data").mkdir(parents=True)
    (tmp_path / "disk" / "data" / "rows.csv").write_text("id\n1\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "secret.csv").write_text("id\n2\n")
    (tmp_path / "data").symlink_to(tmp_path / "disk" / "data")  # the root, as configured, is a link
    (tmp_path / "disk" / "data" / "escape.csv").symlink_to(tmp_path / "elsewhere" / "secret.csv")
    return {"link": tmp_path / "data", "target": tmp_path / "disk" / "data", "base": tmp_path}


def test_a_root_configured_as_a_symlink_accepts_paths_through_the_link_and_the_target(tree) -> None:
    roots = LocalRoots.of([tree["link"]])
    for written in (tree["link"] / "rows.csv", tree["target"] / "rows.csv"):
        assert expand(str(written), None, roots) == [str((tree["target"] / "rows.csv").resolve())]
    with pytest.raises(InvalidSpec, match="outside the directories"):
        expand(str(tree["link"] / "*.csv"), None, roots)  # the glob takes in escape.csv, which leads out


def test_a_link_out_of_the_root_is_refused_whichever_spelling_names_it(tree) -> None:
    roots = LocalRoots.of([tree["link"]])
    for written in (tree["link"] / "escape.csv", tree["target"] / "escape.csv"):
        with pytest.raises(InvalidSpec, match="outside the directories"):
            expand(str(written), None, roots)


def test_a_refused_directory_wins_over_a_root_that_contains_it(tree) -> None:
    roots = LocalRoots.of([tree["base"]], refused=[tree["link"]])
    with pytest.raises(InvalidSpec, match="own data or secrets"):
        expand(str(tree["target"] / "rows.csv"), None, roots)
    assert expand(str(tree["base"] / "elsewhere" / "secret.csv"), None, roots)
