"""ai2text: Vietnamese speech recognition platform."""
