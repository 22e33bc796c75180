"""The kopf operator for the ``Dataset`` and ``TrainingRun`` custom resources. Reconcile decisions
are pure functions in :mod:`ai2text`; handlers here only do I/O. It arrives with the Kubernetes
issue."""
