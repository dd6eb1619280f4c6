"""The package's shape, computed from the source with `ast`: no import cycles, and each package
imports only what docs/architecture.md allows."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"

# what each part may import (besides itself); "top" is the shared modules directly under assistant/
ALLOWED = {
    "top": {"top"},
    "indexing": {"top"},
    "llm": {"top"},  # the chat models: the client, prompts, which backend and how to reach it, our local server
    "answering": {"top", "llm", "indexing.chunk.chunking"},
    "evaluation": {"top", "llm", "answering", "indexing", "facade"},
    "web": {"top", "llm", "answering", "indexing", "facade", "integrations"},
    "integrations": {"top"},  # LangChain's retriever and runnable, the JSON shapes: the Assistant only by protocol
    "cli": {"top", "llm", "answering", "indexing", "evaluation", "web", "facade"},
    "facade": {"top", "llm", "answering", "indexing", "integrations"},
    "entry": {"cli"},  # `python -m assistant`
}


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every module of the package that `name` imports, at the top or inside a function."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(path, name, set(mods)) for name, path in mods.items()}


def part(module: str) -> str:
    pieces = module.split(".")
    if module == "assistant.__main__":
        return "entry"
    if module in ("assistant", "assistant.assistant"):
        return "facade"
    if len(pieces) == 2 and (PACKAGE / f"{pieces[1]}.py").is_file():
        return "top"
    if module == "assistant.indexing.chunk.chunking":
        return "indexing.chunk.chunking"
    return pieces[1]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    edges = graph()
    assert len(edges) > 30  # the walk really saw the package
    assert cycles(edges) == []


def test_each_part_imports_only_what_it_may():
    wrong = []
    for module, targets in graph().items():
        source = part(module)
        for target in targets:
            allowed = ALLOWED["indexing" if source == "indexing.chunk.chunking" else source] | {source}
            to = part(target)
            if to not in allowed and not (to == "indexing.chunk.chunking" and "indexing" in allowed):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


# the answering side follows its flow: a stage imports the shared modules directly under answering/, itself and
# earlier stages, never a later one (summary answers whole-article questions with all of them; build.py builds)
STAGES = ["question", "retrieval", "reading", "attribution", "decision"]


def stage(module: str) -> str | None:
    pieces = module.split(".")
    if len(pieces) >= 4 and pieces[1] == "answering" and pieces[2] in STAGES:
        return pieces[2]
    return None


def test_each_answering_stage_imports_only_earlier_stages():
    wrong = []
    for module, targets in graph().items():
        source = stage(module)
        if source is None:
            continue
        for target in targets:
            to = stage(target)
            if to is not None and STAGES.index(to) > STAGES.index(source):
                wrong.append(f"{module} -> {target}")
    assert wrong == []
    assert any(stage(m) == "decision" for m in graph())  # the walk saw the stages


# the indexing side reads in its order too: each stage a folder or a module of indexing/ named for it; a stage
# imports itself and earlier stages only, never a later one nor the modules that run them (`indexer`, `pipeline`,
# `uploads`, directly under indexing/)
INDEXING_STAGES = ["sources", "parse", "chunk", "embed", "write", "watch"]
INDEXING = PACKAGE / "indexing"


def indexing_stage(module: str) -> str | None:
    pieces = module.split(".")
    if len(pieces) >= 3 and pieces[1] == "indexing" and pieces[2] in INDEXING_STAGES:
        return pieces[2]
    return None


def later_indexing_imports(edges: dict[str, set[str]]) -> list[str]:
    """Imports from an indexing stage to a later stage, or to indexing/'s own modules (which come after them all)."""
    wrong = []
    for module, targets in edges.items():
        source = indexing_stage(module)
        if source is None:
            continue
        for target in targets:
            to = indexing_stage(target)
            if to is None and target.startswith("assistant.indexing."):
                wrong.append(f"{module} -> {target}")  # the modules that run the stages
            elif to is not None and INDEXING_STAGES.index(to) > INDEXING_STAGES.index(source):
                wrong.append(f"{module} -> {target}")
    return sorted(wrong)


def test_the_indexing_stages_exist_in_order():
    present = [
        name
        for name in INDEXING_STAGES
        if (INDEXING / name / "__init__.py").is_file() or (INDEXING / f"{name}.py").is_file()
    ]
    assert present == INDEXING_STAGES
    loose = sorted(p.stem for p in INDEXING.glob("*.py") if p.stem not in INDEXING_STAGES)
    assert loose == ["__init__", "indexer", "pipeline", "uploads"]  # the rest of indexing/ is in the stages


def test_the_stage_order_check_finds_a_later_import():
    edges = {
        "assistant.indexing.parse.loaders": {"assistant.indexing.sources.files", "assistant.indexing.write.writes"},
        "assistant.indexing.chunk.work": {"assistant.indexing.pipeline", "assistant.records"},
        "assistant.indexing.watch.watch": {"assistant.indexing.sources.files"},
    }
    assert later_indexing_imports(edges) == [
        "assistant.indexing.chunk.work -> assistant.indexing.pipeline",
        "assistant.indexing.parse.loaders -> assistant.indexing.write.writes",
    ]


def test_each_indexing_stage_imports_only_earlier_stages():
    edges = graph()
    assert {indexing_stage(m) for m in edges} >= set(INDEXING_STAGES)  # the walk saw every stage
    assert later_indexing_imports(edges) == []


# a package holds at most 12 modules: the .py files directly in its folder, __init__.py counted
MAX_MODULES = 12


def modules_per_package() -> dict[str, int]:
    folders = [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__")]
    counts = {str(f.relative_to(PACKAGE.parent)): len(list(f.glob("*.py"))) for f in folders}
    return {name: n for name, n in counts.items() if n}


def test_no_package_holds_more_than_12_modules():
    counts = modules_per_package()
    assert counts["assistant/indexing"] >= 4 and counts["assistant"] >= 10  # the walk counted the packages
    over = {name.removeprefix("assistant/"): n for name, n in counts.items() if n > MAX_MODULES}
    assert over == {}


def facade_methods() -> set[str]:
    """The public methods of `Assistant`, read from its source."""
    tree = ast.parse((PACKAGE / "assistant.py").read_text(encoding="utf-8"))
    [cls] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Assistant"]
    return {n.name for n in cls.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}


def uses_of_the_assistant(path: Path) -> set[str]:
    """Every attribute a module reads from the Assistant it was given (`bot.x`, `self.bot.x`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        if (isinstance(owner, ast.Name) and owner.id == "bot") or (
            isinstance(owner, ast.Attribute) and owner.attr == "bot"
        ):
            found.add(node.attr)
    return found


def test_the_front_ends_use_only_the_facades_public_methods():
    public = facade_methods()
    assert {"answer", "stream", "upload", "info", "status"} <= public
    fronts = sorted((PACKAGE / "web").glob("*.py")) + sorted((PACKAGE / "cli").glob("*.py"))
    used = {f"{p.parent.name}/{p.name}": uses_of_the_assistant(p) for p in fronts}
    assert used["web/chat.py"] and used["cli/main.py"]  # the walk really saw them
    past = {name: sorted(attrs - public) for name, attrs in used.items() if attrs - public}
    assert past == {}


DIAGRAM = PACKAGE.parent / "docs" / "architecture.md"


def diagram_boxes() -> dict[str, set[str]]:
    """The mermaid picture in docs/architecture.md: for each subgraph named after a package ("assistant/indexing
    (writes)"), the modules its boxes name (each box's first line, names separated by commas; `name/` a folder)."""
    text = DIAGRAM.read_text(encoding="utf-8")
    block = text.split("```mermaid", 1)[1].split("```", 1)[0]
    boxes: dict[str, set[str]] = {}
    current = None
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("subgraph"):
            current = line.split('"')[1].split()[0]
            boxes[current] = set()
        elif line == "end":
            current = None
        elif current is not None:
            for label in re.findall(r"\w+\[\(?([^<\]\)]+)", line):
                boxes[current] |= {name.strip() for name in label.split(",")}
    return boxes


def test_the_pictures_boxes_name_modules_that_exist_and_every_stage_has_one():
    boxes = diagram_boxes()
    assert {"assistant/indexing", "assistant/answering", "assistant/llm", "assistant/"} <= set(boxes)
    for package, names in boxes.items():
        folder = PACKAGE.parent / package
        for name in names:
            path = folder / name if name.endswith("/") else folder / f"{name}.py"
            assert path.exists(), f"docs/architecture.md's picture names {package.rstrip('/')}/{name}, which is gone"
    for package in ("indexing", "answering"):
        stages = {p.name + "/" for p in (PACKAGE / package).iterdir() if (p / "__init__.py").is_file()}
        missing = stages - boxes[f"assistant/{package}"]
        assert not missing, f"docs/architecture.md's picture has no box for {package}/{sorted(missing)}"


def test_the_picture_check_finds_a_box_that_names_a_missing_module(tmp_path, monkeypatch):
    text = DIAGRAM.read_text(encoding="utf-8").replace("WR[write/<br>", "WR[writer/<br>")
    fake = tmp_path / "architecture.md"
    fake.write_text(text, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "DIAGRAM", fake)
    assert "writer/" in diagram_boxes()["assistant/indexing"]
    try:
        test_the_pictures_boxes_name_modules_that_exist_and_every_stage_has_one()
    except AssertionError as exc:
        assert "indexing/writer/" in str(exc)
    else:
        raise AssertionError("a box naming a missing module was not found")


def test_the_retrieval_record_is_frozen_and_lives_with_the_other_records():
    """Retrieval's record is built once by the retrieval step and read by the steps after it, never changed."""
    from dataclasses import FrozenInstanceError

    import pytest

    from assistant.records import Query, QuerySignals, Retrieval

    retrieval = Retrieval(Query("q", "q"), [], [], {})
    with pytest.raises(FrozenInstanceError):
        retrieval.context = []  # type: ignore[misc]
    assert Retrieval.__module__ == QuerySignals.__module__ == "assistant.records"


# ---- `Any` in our own signatures (issue 25): at most 15, each with the third-party API that forces it
MAX_ANY = 15
_ANY_REASON = re.compile(r"#\s*Any:\s*\S")


def _aliases_with_any(tree: ast.Module) -> set[str]:
    """Module-level names whose value mentions Any (`Row = dict[str, Any]`): using one is using Any."""
    found = set()
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if "Any" in re.findall(r"\w+", ast.unparse(node.value)):
                found |= {t.id for t in targets if isinstance(t, ast.Name)}
    return found


def any_in_signatures(root: Path = PACKAGE) -> list[tuple[str, int, str, bool]]:
    """(file, line, function, has a reason) for each parameter or return annotation that mentions Any, aliases
    holding Any included; the reason is a `# Any: ...` comment in the three lines above the function (its
    decorators first) or on its lines down to the annotation."""
    found = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines, tree = source.splitlines(), ast.parse(source)
        hidden = _aliases_with_any(tree) | {"Any"}
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            args = node.args
            annotated = [a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            annotated += [a.annotation for a in (args.vararg, args.kwarg) if a is not None]
            for annotation in [*annotated, node.returns]:
                if annotation is None or not hidden & set(re.findall(r"\w+", ast.unparse(annotation))):
                    continue
                line = annotation.lineno
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                # the comment block just above the function, and its lines (decorators too) down to the annotation
                near = " ".join(lines[max(first - 4, 0) : line])
                found.append((str(path.relative_to(root.parent)), line, node.name, bool(_ANY_REASON.search(near))))
    return found


def test_the_any_count_sees_an_alias_and_a_reason(tmp_path):
    (tmp_path / "m.py").write_text(
        "from typing import Any\nRow = dict[str, Any]\n"
        "def f(x: Row) -> int: ...\n"
        "def g(**kw: Any) -> None:  # Any: LangChain's BaseRetriever passes its own keywords\n    ...\n"
        "def h(x: int) -> int: ...\n"
    )
    assert [(f, n, r) for f, _, n, r in any_in_signatures(tmp_path)] == [
        (f"{tmp_path.name}/m.py", "f", False),
        (f"{tmp_path.name}/m.py", "g", True),
    ]


def test_at_most_15_any_in_our_signatures_each_with_its_reason():
    found = any_in_signatures()
    unexplained = [f"{f}:{line} {name}" for f, line, name, reason in found if not reason]
    assert not unexplained, f"Any without a '# Any: <the API that forces it>' comment: {unexplained}"
    assert len(found) <= MAX_ANY, f"{len(found)} Any in our signatures (at most {MAX_ANY}): {found}"
