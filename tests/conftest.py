"""Shared fixtures: a real Chroma in tmp_path, the real ONNX embedder (loaded once per session)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.embeddings import OnnxMiniLM

# Tests that read the environment (the CLI, the web app, subprocesses) answer offline unless they ask for a
# model: the local model, when installed, would otherwise be chosen by default. Its tests set their own.
os.environ["ASSISTANT_ANSWERER"] = "extractive"

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "articles"
SAMPLE_ID = "ecuador-gangs-terrorist-designation"


@pytest.fixture(scope="session")
def embedder():
    return OnnxMiniLM()


@pytest.fixture
def settings(tmp_path):
    """Offline defaults with the index in tmp_path, whatever the developer's environment says; the extractive
    answerer even where the local model is installed (its own tests ask for it: the `localmodel` marker)."""
    return Settings.from_env(
        env={"ASSISTANT_ANSWERER": "extractive"},
        index_dir=str(tmp_path / "index"),
        articles_dir=str(tmp_path / "articles"),
    )


@pytest.fixture
def articles_dir(tmp_path):
    folder = tmp_path / "articles"
    shutil.copytree(SAMPLE_DIR, folder)
    return folder


@pytest.fixture
def make_bot(settings, embedder):
    def make(**overrides):
        from dataclasses import replace

        if ("openai_base_url" in overrides or "openai_api_key" in overrides) and "answerer" not in overrides:
            overrides["answerer"] = None  # a model server was given: the automatic choice takes it
        return Assistant(settings=replace(settings, **overrides) if overrides else settings, embedder=embedder)

    return make


@pytest.fixture
def bot(make_bot, articles_dir):
    """An Assistant over a fresh embedded index holding the sample article."""
    assistant = make_bot()
    report = assistant.ingest([articles_dir])
    assert report.added == 1 and not report.rejected
    return assistant


@pytest.fixture(scope="session")
def chroma_url():
    url = os.environ.get("ASSISTANT_TEST_CHROMA_URL")
    if not url:
        pytest.skip("no Chroma server: set ASSISTANT_TEST_CHROMA_URL (bash scripts/test starts one)")
    return url


@pytest.fixture(scope="session")
def llama_url():
    url = os.environ.get("ASSISTANT_TEST_LLAMA_URL")
    if not url:
        pytest.skip("no llama.cpp server: set ASSISTANT_TEST_LLAMA_URL (bash scripts/test starts one)")
    return url


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def any_bot(request, settings, embedder):
    """An Assistant on an embedded index, or (marker `server`) on the Chroma server in its own collection."""
    import uuid
    from dataclasses import replace

    from assistant.store import drop_index

    if request.param == "embedded":
        yield Assistant(settings=settings, embedder=embedder)
        return
    server = replace(settings, chroma_url=request.getfixturevalue("chroma_url"), collection=f"t{uuid.uuid4().hex[:12]}")
    yield Assistant(settings=server, embedder=embedder)
    drop_index(server)
