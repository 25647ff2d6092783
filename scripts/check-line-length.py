"""No line of Swift over 120 characters (STYLE.md; swift-format cannot break long string literals or comments).

usage: python3 scripts/check-line-length.py DIR...
"""
import sys, pathlib
bad = 0
for root in sys.argv[1:]:
    for path in sorted(pathlib.Path(root).rglob("*.swift")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if len(line) > 120:
                print(f"{path}:{n}: {len(line)} characters"); bad += 1
sys.exit(1 if bad else 0)
