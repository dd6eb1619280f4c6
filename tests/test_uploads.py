"""Uploads: safe names, checked before the articles folder changes, never replacing another article.

`Assistant.upload` (the workflow behind the web chat's upload box) over a real index and a real folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.indexing.uploads import MAX_NAME, safe_name, save_upload
from assistant.records import Upload

FESTIVAL = "Festival opens\nThe harbour festival opened on Friday with 40 boats."
MB = 1_000_000


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _received(tmp_path: Path, name: str, data: bytes) -> Path:
    """A file as Gradio hands it over: in its own temporary folder, under the browser's name."""
    folder = (
        tmp_path / "gradio" / str(len(list((tmp_path / "gradio").glob("*"))) if (tmp_path / "gradio").exists() else 0)
    )
    folder.mkdir(parents=True)
    path = folder / (Path(name).name or "x")
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/x.txt", "x.txt"),
        (".hidden.txt", "hidden.txt"),
        ("-rf.txt", "rf.txt"),
        ("--.-x.md", "x.md"),
        ("..\\..\\win.md", "win.md"),
        ("a" * 300 + ".txt", "a" * (MAX_NAME - 4) + ".txt"),
        ("東" * 300 + ".md", "東" * 65 + ".md"),  # 198 bytes: at most 200 bytes of UTF-8
        ("report.final.json", "report.final.json"),
    ],
)
def test_upload_names_are_sanitised_and_keep_their_extension(name, expected):
    assert safe_name(name) == expected
    assert len(safe_name(name)) <= MAX_NAME


@pytest.mark.parametrize("name", ["../../etc/x.txt", ".hidden.txt", "-rf.txt", "x" * 300 + ".txt", "/abs/olute.txt"])
def test_uploads_land_inside_the_folder_and_nowhere_else(tmp_path, name):
    folder = tmp_path / "articles"
    received = _received(tmp_path, "upload.bin", FESTIVAL.encode())
    before = _tree(tmp_path)
    saved = save_upload(received, name, folder, MB)
    assert saved.path.parent == folder.resolve() and saved.created
    assert not saved.path.name.startswith((".", "-")) and saved.path.name.endswith(".txt")
    assert _tree(tmp_path) - before == {"articles", f"articles/{saved.path.name}"}


def test_a_bad_upload_never_touches_the_good_article(any_bot, tmp_path):
    folder = Path(any_bot.settings.articles_dir)
    folder.mkdir()
    (folder / "festival.txt").write_text(FESTIVAL, "utf-8")
    assert any_bot.rebuild(folder).added == 1
    for name, data in [
        ("festival.txt", b"\x89PNG\r\n\x1a\n\x00\x00binary"),
        ("festival.txt", b""),
        ("festival.json", b'{"text": '),
        ("festival.pdf", b"%PDF-1.4"),
        ("festival.jsonl", b'{"id": " ", "text": "x"}'),
    ]:
        result = any_bot.upload([Upload(str(_received(tmp_path, name, data)), name)])
        assert [r.path for r in result.refused] == [name] and not result.ingest.changed
        assert (folder / "festival.txt").read_text("utf-8") == FESTIVAL
        assert sorted(p.name for p in folder.iterdir()) == ["festival.txt"]  # nothing written, nothing left
    report = any_bot.rebuild(folder)
    assert (report.unchanged, report.removed) == (1, 0)


def test_a_different_upload_with_the_same_name_gets_a_new_name(any_bot, tmp_path):
    folder = Path(any_bot.settings.articles_dir)
    folder.mkdir()
    (folder / "festival.txt").write_text(FESTIVAL, "utf-8")
    any_bot.rebuild(folder)
    newer = "Festival closes\nThe harbour festival closed on Sunday after three days."
    result = any_bot.upload([Upload(str(_received(tmp_path, "festival.txt", newer.encode())), "festival.txt")])
    assert result.notes == (
        "festival.txt was saved as festival-2.txt: the articles folder already holds a different festival.txt",
    )
    assert result.ingest.added == 1 and not result.refused
    assert (folder / "festival.txt").read_text("utf-8") == FESTIVAL
    assert (folder / "festival-2.txt").read_text("utf-8") == newer
    assert {a.id for a in any_bot.articles()} == {"festival", "festival-2"}
    again = any_bot.upload([Upload(str(_received(tmp_path, "festival.txt", FESTIVAL.encode())), "festival.txt")])
    assert (again.ingest.unchanged, again.notes, again.refused) == (1, (), ())  # the same file: nothing to do
    assert sorted(p.name for p in folder.iterdir()) == ["festival-2.txt", "festival.txt"]


def test_an_upload_never_writes_through_a_link(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("Keep me.", "utf-8")
    (folder / "news.txt").symlink_to(outside)
    saved = save_upload(_received(tmp_path, "news.txt", FESTIVAL.encode()), "news.txt", folder, MB)
    assert saved.path.name == "news-2.txt" and outside.read_text("utf-8") == "Keep me."


def test_the_upload_limit_is_the_file_limit_in_the_same_unit(tmp_path):
    folder = tmp_path / "articles"
    with pytest.raises(InputError, match=r"over the 1 MB limit \(ASSISTANT_MAX_FILE_MB, 1 MB = 1,000,000 bytes\)"):
        save_upload(_received(tmp_path, "big.txt", b"word " * 200_001), "big.txt", folder, MB)
    assert save_upload(_received(tmp_path, "ok.txt", b"word " * 199_999 + b"end."), "ok.txt", folder, MB).created


def test_a_file_over_the_limit_is_refused_alone(any_bot, tmp_path):
    """10.5 MB against the 10 MB limit: that file is named with the limit in our units; the others are indexed."""
    from dataclasses import replace

    small = type(any_bot)(settings=replace(any_bot.settings, max_file_mb=0.1), embedder=any_bot.embedder)
    big = _received(tmp_path, "big.txt", b"word " * 21_000)  # 105,000 bytes: 1.05 x the limit, as 10.5 MB is
    good = _received(tmp_path, "festival.txt", FESTIVAL.encode())
    result = small.upload([Upload(str(big), "big.txt"), Upload(str(good), "festival.txt")])
    assert result.ingest.added == 1 and [a.id for a in small.articles()] == ["festival"]
    [refused] = result.refused
    assert refused.path == "big.txt"
    assert refused.reason.startswith("file is 0.105 MB, over the 0.1 MB limit (ASSISTANT_MAX_FILE_MB, 1 MB = 1,000,000")


def test_a_size_just_over_the_limit_never_reads_as_the_limit():
    from assistant.indexing.sources.files import size_problem

    assert size_problem(10_500_000, 10 * MB).startswith("file is 10.5 MB, over the 10 MB limit")
    assert size_problem(MB + 1, MB).startswith("file is 1.000001 MB, over the 1 MB limit")
    assert size_problem(MB, MB) is None


def test_gradio_is_given_no_limit_of_its_own(settings):
    """Gradio's limit refused a whole selection for one big file, in 1,024-based "Mb" ("9.5 Mb" for 10 MB):
    the app checks each file; a request only has a ceiling of 20 files at the limit."""
    from dataclasses import replace

    from assistant.web.guard import BodyLimit
    from assistant.web.server import launch_options

    options = launch_options(replace(settings, max_file_mb=2.5))
    assert options["max_file_size"] is None
    [guard] = [m for m in options["app_kwargs"]["middleware"] if m.cls is BodyLimit]
    assert guard.kwargs["max_bytes"] == 20 * 2_500_000 + 64 * 1024
    assert guard.kwargs["message"](60_000_000).startswith("This upload is 60.0 MB; the web chat takes at most 50 MB")
