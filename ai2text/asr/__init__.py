"""Speech recognition: vocabularies, NeMo FastConformer presets, safe loading, CTC decoding with
word timestamps, and batched inference."""
