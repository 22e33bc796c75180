"""Audio in: decoding any accepted format to 16 kHz mono under limits, chunking long audio, and
synthetic Vietnamese speech for bootstrapping models."""
