"""Benchmarks behind ``ai2text bench``: each measures ours and, where an issue names one, a peer
in the same run, and reports the ratio."""
