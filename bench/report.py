"""`make bench`: run every benchmark section and write one report, bench/results/latest.md and latest.json.

    .venv/bin/python -m bench.report [--smoke] [--out DIR] [--only intake,commands] [--skip index]

A section is a module with `run(smoke: bool) -> dict` returning
`{"title", "markdown", "data", "targets", "failures"}`: its markdown (### headings and below), its
figures (JSON), its targets as `{"target", "figure", "met": True | False | None}`, and failures —
things that must not happen whatever the machine's speed (a lost delivery, a cancel that never
arrived). Timings are never failures. The run exits 1 if any section failed or raised.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

# In report order. To add a section, add (name, module) here; the module exposes run(smoke) -> dict.
# A module whose run() returns bare figures and which has `markdown(result)` (bench/load.py, bench/soak.py)
# fits too: see `as_section`. E.g. ("load", "bench.load"), ("soak", "bench.soak").
SECTIONS: list[tuple[str, str]] = [
    ("throughput", "bench.throughput"),  # the headline: acknowledged *and processed*, issue 15
    ("intake", "bench.intake"),
    ("commands", "bench.commands"),
    ("api_economy", "bench.api_economy"),
    ("memory", "bench.memory"),
    ("index", "bench.index_queries"),
    ("agents_page", "bench.agents_page"),  # issue 16: the Agents page at 10^4 and 10^6 sessions
    ("insights", "bench.insights"),  # issue 20: the report of a repository with 10^5 sessions
    ("load", "bench.load"),
    ("soak", "bench.soak"),
    ("slow_clients", "bench.slow_clients"),
]


def as_section(module, result: dict) -> dict:
    """A module's result as a section: as it is, or built from bare figures and `module.markdown(result)`
    (its first line, a `## Title` heading, becomes the title; `targets`/`failures` are taken if present)."""
    if "markdown" in result:
        return result
    markdown = module.markdown(result)
    first, _, rest = markdown.partition("\n")
    if first.startswith("#"):
        title = first.lstrip("#").strip()
    else:
        title, rest = getattr(module, "TITLE", module.__name__), markdown
    return {"title": title, "markdown": rest.replace("\n## ", "\n### "), "data": result,
            "targets": result.get("targets", []), "failures": result.get("failures", [])}


def _run_module(module_name: str, smoke: bool) -> dict:
    module = importlib.import_module(module_name)
    return as_section(module, module.run(smoke))


def run_section(name: str, function: Callable[[], dict]) -> dict:
    """Run one section; an exception becomes a failed section, never a lost report."""
    started = time.monotonic()
    print(f"== {name}", flush=True)
    try:
        section = function()
    except Exception:  # noqa: BLE001 -- report it, keep the other sections
        error = traceback.format_exc()
        print(error, file=sys.stderr, flush=True)
        section = {"title": name, "markdown": f"The section failed:\n\n```\n{error[-3000:]}\n```\n", "data": {},
                   "targets": [], "failures": [f"{name}: raised {error.strip().splitlines()[-1]}"]}
    section["elapsed_s"] = round(time.monotonic() - started, 1)
    print(f"== {name} took {section['elapsed_s']:.0f} s", flush=True)
    return section


def render(sections: dict[str, dict], meta: dict) -> str:
    lines = ["# session-bot benchmarks" + (" (smoke: tiny counts, timings mean nothing)" if meta["smoke"] else ""),
             "",
             f"{meta['when']} · {meta['machine']['cpus']} CPUs · Python {meta['machine']['python']} · kernel "
             f"{meta['machine']['kernel']} · sections: {', '.join(sections)} · took {meta['elapsed_s']:.0f} s. "
             "Every figure is from this one run; absolute figures vary from machine to machine.", ""]
    targets = [dict(t, section=name) for name, s in sections.items() for t in s.get("targets", [])]
    if targets:
        lines += ["## Targets at a glance", "", "| section | target | where it stands | met |",
                  "| --- | --- | --- | --- |"]
        for t in targets:
            met = "— (smoke)" if meta["smoke"] else {True: "yes", False: "**no**", None: "—"}[t["met"]]
            lines.append(f"| {t['section']} | {t['target']} | {t['figure']} | {met} |")
        lines.append("")
    failures = [f for s in sections.values() for f in s.get("failures", [])]
    if failures:
        lines += ["## Failures", ""] + [f"- {f}" for f in failures] + [""]
    for number, (name, section) in enumerate(sections.items(), 1):
        lines += [f"## {number}. {section['title']}", "", section["markdown"].strip(), "",
                  f"*Section `{name}` took {section['elapsed_s']:.0f} s.*", ""]
    return "\n".join(lines)


def write(sections: dict[str, dict], out: Path, smoke: bool, elapsed: float) -> None:
    meta = {"when": time.strftime("%Y-%m-%d %H:%M:%S %z"), "smoke": smoke, "elapsed_s": round(elapsed, 1),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()}}
    out.mkdir(parents=True, exist_ok=True)
    document = {"meta": meta, "sections": {name: {k: v for k, v in s.items() if k != "markdown"}
                                           for name, s in sections.items()}}
    (out / "latest.json").write_text(json.dumps(document, indent=1, default=str) + "\n")
    (out / "latest.md").write_text(render(sections, meta))


def section_main(name: str, run: Callable[[bool], dict], doc: str, smoke_help: str,
                 argv: list[str] | None = None) -> int:
    """The command line of a section module: `python -m bench.<name> [--smoke] [--out DIR]`."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help=smoke_help)
    parser.add_argument("--out", type=Path, help="write latest.md/latest.json there (default: print only)")
    args = parser.parse_args(argv)
    return run_alone(name, lambda: run(args.smoke), smoke=args.smoke, out=args.out)


def run_alone(name: str, function: Callable[[], dict], *, smoke: bool, out: Path | None) -> int:
    """A section's own command line: run it, print it, write a one-section report if `out` is given."""
    started = time.monotonic()
    section = run_section(name, function)
    print(section["markdown"])
    if out:
        write({name: section}, out, smoke, time.monotonic() - started)
        print(f"written to {out}/latest.md and latest.json")
    for failure in section["failures"]:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if section["failures"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts (CI); asserts no timings")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where latest.md and latest.json go")
    parser.add_argument("--only", help="comma-separated section names (default: all)")
    parser.add_argument("--skip", default="", help="comma-separated section names to leave out")
    args = parser.parse_args(argv)
    known = [name for name, _ in SECTIONS]
    wanted = args.only.split(",") if args.only else known
    skipped = set(filter(None, args.skip.split(",")))
    unknown = (set(wanted) | skipped) - set(known)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(known)}")
    started = time.monotonic()
    sections = {}
    for name, module in SECTIONS:
        if name in wanted and name not in skipped:
            sections[name] = run_section(name, lambda: _run_module(module, args.smoke))
    write(sections, args.out, args.smoke, time.monotonic() - started)
    print(f"report: {args.out}/latest.md, {args.out}/latest.json ({time.monotonic() - started:.0f} s)")
    failures = [f for s in sections.values() for f in s["failures"]]
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
