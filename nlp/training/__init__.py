"""Fine-tuning the top layers of the converted e5-small base on cached hidden states (see nlp/MODEL_CARD.md).

Modules: ``data`` (CSV/XML/TSV loaders), ``features`` (frozen-layer cache), ``model`` (trainable top),
``trainer`` (training loop, CV), ``artefact`` (fp16 safetensors format, overlay), ``pipeline`` (end to end).
"""
