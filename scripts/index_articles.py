#!/usr/bin/env python3
"""The indexing script: ``index_articles.py PATH... [--index DIR] [--rebuild] [--workers N]``.

A thin wrapper over ``newsearch index``, so both run the same code with the same options.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search.cli import main

if __name__ == "__main__":
    main(["index", *sys.argv[1:]], prog_name="index_articles.py")
