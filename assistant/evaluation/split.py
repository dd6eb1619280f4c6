"""Fit half and report half: every evaluation set split by document, never by question, so no document's
questions are in both halves (a choice fitted on one half is measured on documents it never saw).

The unit of a question (`unit_of`): its gold document; a multi-hop question's whole group of gold documents
(`gold_doc_ids`, HotpotQA); a question that names its paragraph (`paragraph_index`, SQuAD v2, one article
with questions) that paragraph, "<doc_id>#p<n>", a paragraph being a document there.

The rule (`halves`): the units ordered by the sha256 of their name; the first half of that order (rounded up)
is `fit`, the rest `report`. `eval/splits.json` holds the rule's halves for the public sets, committed, so
they stay as they are if a set changes; a set it does not list is split by the rule as it runs. Regenerate
the file with `python -m assistant.evaluation.split eval`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from assistant.errors import InputError
from assistant.evaluation.rows import EvalRow, read_rows

HALVES = ("fit", "report", "all")
SPLITS_FILE = "splits.json"
RULE = "units ordered by sha256 of their name; the first half (rounded up) fit, the rest report"


def unit_of(row: EvalRow) -> str:
    """The document unit a question belongs to."""
    gold = row.get("gold_doc_ids")
    if gold and len(gold) > 1:
        return " + ".join(sorted(gold))
    doc = gold[0] if gold else row["doc_id"]
    if row.get("paragraph_index") is not None:
        return f"{doc}#p{int(row['paragraph_index'])}"
    return str(doc)


def gold_doc_ids(row: EvalRow) -> list[str]:
    """The question's gold documents (what `--oracle` scopes the answer to)."""
    return list(row.get("gold_doc_ids") or [row["doc_id"]])


def halves(units: Iterable[str]) -> dict[str, list[str]]:
    """The rule: deterministic, and the same whatever order the units come in."""
    ordered = sorted(set(units), key=lambda u: (hashlib.sha256(u.encode("utf-8")).hexdigest(), u))
    cut = (len(ordered) + 1) // 2
    return {"fit": sorted(ordered[:cut]), "report": sorted(ordered[cut:])}


def dataset_name(path: str | Path) -> str:
    return Path(path).name.replace(".jsonl", "")


def _committed(dataset: Path) -> dict[str, list[str]] | None:
    path = dataset.parent / SPLITS_FILE
    if not path.is_file():
        return None
    sets = json.loads(path.read_text(encoding="utf-8")).get("sets", {})
    entry = sets.get(dataset_name(dataset))
    return {"fit": list(entry["fit"]), "report": list(entry["report"])} if entry else None


def select(rows: list[EvalRow], half: str, dataset: str | Path) -> tuple[list[EvalRow], str]:
    """The questions of one half (`all`: every question), and where the split came from."""
    if half not in HALVES:
        raise InputError(f"no half '{half}': use one of {', '.join(HALVES)}")
    if half == "all":
        return rows, "none (all questions)"
    dataset = Path(dataset)
    committed = _committed(dataset)
    split = committed or halves(unit_of(r) for r in rows)
    source = f"{dataset.parent.name}/{SPLITS_FILE}" if committed else f"rule ({RULE})"
    chosen, other = set(split[half]), set(split["report" if half == "fit" else "fit"])
    stray = sorted({unit_of(r) for r in rows} - chosen - other)
    if stray:
        raise InputError(
            f"{len(stray)} document(s) of {dataset.name} are in neither half of {source} (e.g. {stray[0]!r}); "
            f"regenerate it: python -m assistant.evaluation.split {dataset.parent}"
        )
    return [r for r in rows if unit_of(r) in chosen], source


def write_splits(folder: Path) -> Path:
    """`<folder>/splits.json`: each set's halves by the rule (every `*.jsonl` beside its `.docs.jsonl`)."""
    sets: dict[str, dict[str, int | list[str]]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        if path.name.endswith(".docs.jsonl"):
            continue
        rows = read_rows(path)
        sets[dataset_name(path)] = {"questions": len(rows), **halves(unit_of(r) for r in rows)}
    target = folder / SPLITS_FILE
    payload = {
        "unit": "a question's gold document; HotpotQA: its group of gold documents; SQuAD v2: its paragraph",
        "rule": RULE,
        "sets": sets,
    }
    target.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


if __name__ == "__main__":  # pragma: no cover
    print(write_splits(Path(sys.argv[1] if len(sys.argv) > 1 else "eval")))
