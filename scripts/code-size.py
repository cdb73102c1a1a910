#!/usr/bin/env python3
"""Production code size per file under crates/*/src: the figure issue 34 set (none over 400, ~100 on average).

Counts, per file, the lines that are neither blank nor comments (doc comments included, as tokei's "code"
column does), outside `#[cfg(test)] mod … { … }` blocks. Prints the average and the largest files.
Usage: python3 scripts/code-size.py [how-many-largest]
"""
import re
import subprocess
import sys


def production_lines(text):
    lines = text.split("\n")
    kept, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "#[cfg(test)]" and i + 1 < len(lines) and re.match(r"\s*(pub\s+)?mod \w+\s*\{", lines[i + 1]):
            depth, j = 0, i + 1
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                j += 1
                if depth <= 0:
                    break
            i = j
            continue
        kept.append(lines[i])
        i += 1
    return [l for l in kept if l.strip() and not l.strip().startswith("//")]


def main():
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    files = [f for f in subprocess.check_output(["git", "ls-files", "crates/*/src/*.rs", "crates/*/src/**/*.rs"], text=True).split()]
    sizes = sorted(((len(production_lines(open(f).read())), f) for f in sorted(set(files))), reverse=True)
    total = sum(n for n, _ in sizes)
    print(f"{len(sizes)} production files, {total} lines of code, {total / len(sizes):.1f} on average, largest {sizes[0][0]}")
    for n, f in sizes[:top]:
        print(f"{n:5} {f}")


if __name__ == "__main__":
    main()
