"""Vietnamese text: transcript normalization, syllable language models, and (with the Vietnamese
text issue) written/spoken normalization and diacritics restoration."""
