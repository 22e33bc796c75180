"""The Vietnamese espeak-ng voices and variants we synthesize with (no heavy imports: the CLI
lists them in its help)."""

from __future__ import annotations

VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
