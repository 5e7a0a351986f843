"""Shipped fine-tuned weights (fp16 safetensors); see nlp/MODEL_CARD.md."""
