#!/usr/bin/env python3
"""The real deep-translator package's MyMemory loop against our emulator, for the
benchmark's comparison row. Run with the venv bench/run.sh makes (deep-translator
from PyPI); prints one JSON object: texts sent, wall seconds, requests per second.

    python bench/dt_mymemory.py URL CORPUS_DIR COUNT

deep-translator's `MyMemoryTranslator.translate_batch` translates a list one text at
a time (one `requests.get` per text, each waiting for its answer), the loop a user of
the package runs. Its endpoint is a constant of the package
(`deep_translator.constants.BASE_URLS["MYMEMORY"]`); it is pointed at the emulator
here, nothing else is changed. Texts are the corpus's paragraphs cut to at most 240
characters (deep-translator refuses over 500 characters; MyMemory over 500 bytes).
"""

import importlib.metadata
import json
import os
import sys
import time

from deep_translator import MyMemoryTranslator, constants


def texts(corpus, count):
    out = []
    for root, _, files in sorted(os.walk(corpus)):
        for name in sorted(files):
            with open(os.path.join(root, name), encoding="utf-8") as f:
                for para in f.read().split("\n\n"):
                    para = " ".join(para.split())
                    if len(para) >= 20:
                        out.append(para[:240])
                    if len(out) >= count:
                        return out
    return out


def main():
    url, corpus, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    constants.BASE_URLS["MYMEMORY"] = url.rstrip("/") + "/get"
    batch = texts(corpus, count)
    translator = MyMemoryTranslator(source="ar-SA", target="en-GB")
    start = time.monotonic()
    done = translator.translate_batch(batch)
    wall = time.monotonic() - start
    assert len(done) == len(batch) and all(done), "deep-translator returned nothing"
    print(json.dumps({
        "version": importlib.metadata.version("deep-translator"),
        "texts": len(batch),
        "wall_s": wall,
        "requests_per_s": len(batch) / wall,
    }))


if __name__ == "__main__":
    main()
