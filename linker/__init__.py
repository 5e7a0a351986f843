"""Resonanz linker: customer value (ABC, RFM, margin, CLV, loyalty, weights) and identity linking.

Pure functions over plain data (dataclasses and sequences); this package never imports the store,
the collectors or NLP. The application (``resonanz.pipeline.valuation``, ``resonanz.pipeline.linking``,
``resonanz.pipeline.weighting``) loads rows, calls these functions and writes the results back.
"""
