"""Ray Train and Ray Data entry points (train, evaluate, promote), thin over :mod:`ai2text`.
They arrive with the Training issue."""
