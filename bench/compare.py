"""``python -m bench compare [OLD] [NEW]``: what changed between two results files.

Each figure of NEW is set beside the same figure of OLD (matched on benchmark, what and size;
then on benchmark and size where that is unique). The figure compared is the one the target
is on: the ratio to the baseline measured in the same run for B1, B5 and B6 (their targets are
ratios, and a ratio carries over between machine days), the figure itself for the others (their
targets are seconds or megabytes, so they move with the machine: the header says when the two
runs name different CPUs). Every figure is lower-is-better; a change beyond ``--threshold``
(default 10 %) is "worse" or "better", anything within it "same"; a figure either run gave no
verdict for (B1 against a baseline slowed by the host) is not compared. ``--fail-worse``
exits 1 when any figure got worse or a benchmark failed that had not.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# benchmarks whose target is on the ratio to their same-run baseline
RATIO_BASED = frozenset({"B1", "B5", "B6"})
THRESHOLD = 0.10
ONE_SIDED = ("only in old", "only in new")


def results_file(name: str | None, folder: Path, rank: int) -> Path:
    """A results JSON by path or by its timestamp or a unique part of it (``20261130T042210Z``,
    ``042210Z``); without a name the
    ``rank``-th newest in ``folder`` (1: the newest)."""
    if name:
        path = Path(name)
        if path.suffix == ".md":
            path = path.with_suffix(".json")
        if path.is_file():
            return path
        by_stamp = sorted(folder.glob(f"*{name}*.json"))
        if len(by_stamp) == 1:
            return by_stamp[0]
        what = "no results file" if not by_stamp else f"{len(by_stamp)} results files match"
        raise FileNotFoundError(f"{what} {name!r} (a path, or part of a timestamp in {folder})")
    found = sorted(folder.glob("*.json"))
    if len(found) < rank:
        raise FileNotFoundError(
            f"{folder} holds {len(found)} results files, too few to compare: run `make bench`, "
            "or name the files"
        )
    return found[-rank]


def _pairs(old_rows: list[dict], new_rows: list[dict]) -> list[tuple[dict | None, dict | None]]:
    """Rows of the two runs side by side, in NEW's order, then OLD's rows NEW does not have."""
    old_left = list(old_rows)
    pairs: list[tuple[dict | None, dict | None]] = []
    unmatched_new = []
    for n in new_rows:
        key = (n["id"], n["what"], n["size"])
        hit = next((o for o in old_left if (o["id"], o["what"], o["size"]) == key), None)
        if hit is None:
            unmatched_new.append(n)
        else:
            old_left.remove(hit)
        pairs.append((hit, n))
    # a benchmark whose description changed between versions of the harness: match on id and
    # size where exactly one row on each side has them
    for n in unmatched_new:
        same_new = [r for r in unmatched_new if (r["id"], r["size"]) == (n["id"], n["size"])]
        same_old = [o for o in old_left if (o["id"], o["size"]) == (n["id"], n["size"])]
        if len(same_new) == 1 and len(same_old) == 1:
            old_left.remove(same_old[0])
            i = next(i for i, (o, r) in enumerate(pairs) if r is n)
            pairs[i] = (same_old[0], n)
    return pairs + [(o, None) for o in old_left]


def _basis(row: dict) -> str:
    return "ratio" if row["id"] in RATIO_BASED and row.get("ratio") is not None else "value"


def _shown(row: dict | None, basis: str) -> str:
    if row is None:
        return ""
    if basis == "ratio":
        return f"{row['ratio']:.2f}x"
    v = row["value"]
    return f"{v:,.3f} {row['unit']}" if abs(v) < 10 else f"{v:,.1f} {row['unit']}"


def _unjudged(row: dict) -> bool:
    return bool(row.get("target")) and row.get("ok") is None


def _met(row: dict | None) -> str:
    if row is None:
        return ""
    return {True: "yes", False: "no", None: "no verdict"}[row.get("ok")]


def compare(old: dict, new: dict, threshold: float = THRESHOLD) -> list[dict]:
    """One entry per figure: both sides, the relative change and its verdict."""
    out = []
    for o, n in _pairs(old["rows"], new["rows"]):
        row = n or o
        basis = _basis(n) if n is not None else _basis(o)
        if o is not None and n is not None and _basis(o) != basis:
            basis = "value"  # one side has no baseline: its figure is all there is
        change, verdict = None, "only in new" if o is None else "only in old" if n is None else ""
        if o is not None and n is not None:
            a, b = (o["ratio"], n["ratio"]) if basis == "ratio" else (o["value"], n["value"])
            if a:
                change = b / a - 1
                verdict = "same"
                if abs(change) > threshold:
                    verdict = "worse" if change > 0 else "better"
                if _unjudged(o) or _unjudged(n):
                    # B1 gives no verdict when its baseline paid the host's page faults: a
                    # slowed baseline makes the ratio understate, so it is not compared either
                    verdict = "not compared (no verdict)"
        out.append(
            {
                "id": row["id"],
                "what": row["what"],
                "size": row["size"],
                "basis": basis,
                "old": _shown(o, basis),
                "new": _shown(n, basis),
                "change": change,
                "verdict": verdict,
                "old_met": _met(o),
                "new_met": _met(n),
            }
        )
    old_failed = {e["id"] for e in old.get("errors", [])}
    for e in new.get("errors", []):
        out.append(
            {
                "id": e["id"],
                "what": "failed",
                "size": "",
                "basis": "",
                "old": "failed" if e["id"] in old_failed else "",
                "new": "failed",
                "change": None,
                "verdict": "still failing" if e["id"] in old_failed else "failed",
                "old_met": "",
                "new_met": "",
            }
        )
    return out


def _run_line(label: str, result: dict, path: Path) -> str:
    m = result["machine"]
    load = m.get("load_avg")
    load_s = f"{load[0]:.2f}" if load else "?"
    return (
        f"- {label}: `{path.name}`, commit {m.get('git_commit') or '?'}, "
        f"{m.get('cpu')} ({m.get('cores')} cores), load {load_s} at the start"
    )


def to_markdown(old: dict, new: dict, entries: list[dict], paths, threshold: float) -> str:
    om, nm = old["machine"], new["machine"]
    out = [
        f"# Benchmarks {old['started']} -> {new['started']}",
        "",
        _run_line("old", old, paths[0]),
        _run_line("new", new, paths[1]),
    ]
    if (om.get("cpu"), om.get("cores")) != (nm.get("cpu"), nm.get("cores")):
        out.append(
            "- different CPUs: only the ratios (B1, B5, B6) compare; seconds and megabytes do not"
        )
    out += [
        "",
        f"Ratios for B1, B5 and B6 (to the baseline of the same run), figures for the others; "
        f"lower is better, changes within {threshold:.0%} are 'same'. One machine's day can "
        "move a figure by more than that (docs/performance.md).",
        "",
        "| # | what | size | old | new | change | verdict | met (old -> new) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for e in (e for e in entries if e["verdict"] not in ONE_SIDED):
        change = "" if e["change"] is None else f"{e['change']:+.0%}"
        verdict = f"**{e['verdict']}**" if e["verdict"] in ("worse", "failed") else e["verdict"]
        met = f"{e['old_met']} -> {e['new_met']}" if e["old_met"] and e["new_met"] else ""
        out.append(
            f"| {e['id']} | {e['what']} | {e['size']} | {e['old']} | {e['new']} | {change} | "
            f"{verdict} | {met} |"
        )
    for side in ONE_SIDED:
        ids = [e["id"] for e in entries if e["verdict"] == side]
        if ids:
            counts = {i: ids.count(i) for i in dict.fromkeys(ids)}
            listed = ", ".join(i if c == 1 else f"{i} ({c} figures)" for i, c in counts.items())
            out.append(f"\n{side.capitalize()} (not run, or at another size): {listed}.")
    return "\n".join(out) + "\n"


def main(argv: list[str], folder: Path) -> int:
    p = argparse.ArgumentParser(prog="python -m bench compare", description=__doc__)
    p.add_argument(
        "old",
        nargs="?",
        help="results file or timestamp (default: the second newest; named alone, it is "
        "compared against the newest)",
    )
    p.add_argument("new", nargs="?", help="results file or timestamp (default: the newest)")
    p.add_argument("--threshold", type=float, default=THRESHOLD, help="e.g. 0.1 for 10 %%")
    p.add_argument(
        "--fail-worse",
        action="store_true",
        help="exit 1 when a figure got worse by more than the threshold or a benchmark failed",
    )
    p.add_argument("--results", default=None, help=f"folder of the results files ({folder})")
    a = p.parse_args(argv)
    if a.threshold < 0:
        p.error("--threshold must not be negative")
    where = Path(a.results) if a.results else folder
    try:
        new_path = results_file(a.new, where, 1)
        old_path = results_file(a.old, where, 2)  # one name: it against the newest
    except FileNotFoundError as exc:
        p.error(str(exc))
    if old_path.resolve() == new_path.resolve():
        p.error(f"both sides are {old_path.name}; name two different results")
    old, new = (json.loads(x.read_text(encoding="utf-8")) for x in (old_path, new_path))
    entries = compare(old, new, a.threshold)
    print(to_markdown(old, new, entries, (old_path, new_path), a.threshold), end="")
    worse = any(e["verdict"] in ("worse", "failed") for e in entries)
    return 1 if a.fail_worse and worse else 0
