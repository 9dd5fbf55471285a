"""newsearch: a search engine over news articles.

The library follows the data flow, one module per stage:
readers -> clean -> language -> dates -> entities -> pipeline (dedup) -> indexer
-> query -> searcher (snippets, facets). ``web/`` and ``scripts/`` build on it;
nothing here imports Flask.
"""

__version__ = "0.1.0"
