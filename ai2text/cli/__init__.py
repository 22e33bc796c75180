"""The ``ai2text`` command line."""
