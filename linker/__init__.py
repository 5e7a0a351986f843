"""Resonanz linker: identity linking (:mod:`linker.identity`) and customer value (:mod:`linker.value`).

The two sub-packages share only :mod:`linker.errors` and never import each other.

Pure functions over plain data (dataclasses and sequences); this package never imports the store,
the collectors or NLP. The application (``resonanz.pipeline.valuation``, ``resonanz.pipeline.linking``,
``resonanz.pipeline.weighting``) loads rows, calls these functions and writes the results back.
"""
