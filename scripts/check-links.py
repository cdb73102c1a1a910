#!/usr/bin/env python3
"""Every relative link of README.md and docs/*.md must name a file or folder inside the repository (CI runs it).

Links to the web (`http:`, `https:`, `mailto:`) and to an anchor of the same page are left alone; a link's own
anchor (`file.md#part`) is dropped before the check. Prints each broken link and exits 1 if there is one.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def main():
    broken = []
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text()
        # Links inside code blocks are code, not links.
        text = re.sub(r"```.*?```", "", text, flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"^(https?:|mailto:|#)", target):
                continue
            path = target.split("#", 1)[0]
            resolved = (page.parent / path).resolve()
            if not resolved.is_relative_to(ROOT):
                broken.append(f"{page.relative_to(ROOT)}: {target} leaves the repository")
            elif not resolved.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} names nothing")
    for line in broken:
        print(line)
    print(f"check-links: {len(pages)} pages, {len(broken)} broken links")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
