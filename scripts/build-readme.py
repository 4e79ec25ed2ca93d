#!/usr/bin/env python3
"""Assemble README.md from docs/readme/*.md (hand-written parts) and the model/CLI/web manuals in docs/.

Placeholders (CHECK_OUTPUT, BENCH_OUTPUT, ...) are filled from files in docs/readme/captured/ when present:
those hold real command output captured by scripts/capture-readme-outputs.sh.
With --check, README.md is left alone and the exit status says whether it is current.
"""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
parts = root / "docs" / "readme"
out_dir = parts / "captured"

def demote(text: str, levels: int = 0) -> str:
    if levels == 0:
        return text
    return re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + levels) + " ", text, flags=re.M)

def doc(name: str, drop_first_heading_to: str | None = None) -> str:
    t = (root / "docs" / name).read_text()
    t = t.replace("](../test-artifacts/", "](test-artifacts/").replace("](result-schema.md)", "](docs/result-schema.md)")
    t = t.replace("](images/", "](docs/images/")
    # the first heading becomes a level-2 section; the rest move down one level
    lines = t.split("\n")
    head = lines[0].replace(" (README section draft)", "")
    rest = "\n".join(lines[1:])
    rest = re.sub(r"^\*Draft README section[^\n]*\n", "", rest, flags=re.M)
    if drop_first_heading_to is not None:
        head = drop_first_heading_to
    else:
        head = "#" + head if head.startswith("# ") else head
    return head + "\n" + demote(rest, 1 if lines[0].startswith("# ") else 0)

sections = [
    (parts / "00-intro.md").read_text(),
    (parts / "10-demo.md").read_text(),
    doc("cli.md"),
    (parts / "30-check.md").read_text(),
    doc("mm.md"),
    doc("fs.md"),
    doc("web.md"),
    (parts / "60-engine.md").read_text(),
    (parts / "70-perf.md").read_text(),
    (parts / "80-dev.md").read_text(),
]
text = "\n\n".join(s.strip() + "\n" for s in sections)
if out_dir.exists():
    for f in sorted(out_dir.iterdir()):
        text = text.replace(f.stem, f.read_text().rstrip("\n"))
if "--check" in sys.argv[1:]:
    if (root / "README.md").read_text() != text:
        print("README.md is not what scripts/build-readme.py assembles from docs/ (run it)", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
(root / "README.md").write_text(text)
print(f"README.md: {len(text.splitlines())} lines")
