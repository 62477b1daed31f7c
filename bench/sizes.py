#!/usr/bin/env python3
"""Bytes written per format per byte of input, for the benchmark: one JSON object.

    python3 bench/sizes.py INPUT_DIR OUT_DIR

Formats are told by the output name (`<stem>.<to>.<ext>`); the review pages' shared
files (`tarjama-review.js`, `.css`) are counted apart, as are index.html and
report.json. Standard library only.
"""

import json
import os
import sys

SHARED = ("tarjama-review.js", "tarjama-review.css")
RUN = ("index.html", "report.json")


def total(top, keep=lambda name: True):
    n = 0
    for root, _, files in os.walk(top):
        for name in files:
            if keep(name):
                n += os.path.getsize(os.path.join(root, name))
    return n


def main():
    inputs, out = sys.argv[1], sys.argv[2]
    input_bytes = total(inputs)
    by_format = {}
    shared = run = 0
    for root, _, files in os.walk(out):
        for name in files:
            size = os.path.getsize(os.path.join(root, name))
            if root == out and name in SHARED:
                shared += size
            elif root == out and name in RUN:
                run += size
            else:
                ext = name.rsplit(".", 1)[-1]
                by_format[ext] = by_format.get(ext, 0) + size
    print(json.dumps({
        "input_bytes": input_bytes,
        "bytes": by_format,
        "per_input_byte": {k: v / input_bytes for k, v in sorted(by_format.items())},
        "shared_bytes": shared,
        "html_with_shared_per_input_byte": (by_format.get("html", 0) + shared) / input_bytes,
        "run_files_bytes": run,
    }))


if __name__ == "__main__":
    main()
