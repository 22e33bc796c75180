"""``ai2text operator run``: the Kubernetes operator (kopf) for ``Dataset`` and ``TrainingRun``.

It reads the cluster from the in-cluster service account, or from ``KUBECONFIG`` outside one,
and the platform (database, blobs, promotion policy) from the usual ``AI2TEXT_*`` settings.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "operator", help="the Kubernetes operator for the Dataset and TrainingRun resources"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = actions.add_parser(
        "run",
        help="reconcile Datasets and TrainingRuns in one namespace (KubeRay RayJobs, promotion)",
        epilog="example: ai2text operator run --namespace ai2text --liveness-port 8080",
    )
    run.add_argument("--namespace", required=True, help="the namespace to watch")
    run.add_argument(
        "--standalone",
        action="store_true",
        help="no peering: do not pause for other operator instances (tests, one-off runs)",
    )
    run.add_argument(
        "--priority", type=int, default=0, help="peering priority: the highest one is active"
    )
    run.add_argument("--liveness-port", type=int, help="serve /healthz on this port")
    run.add_argument("--verbose", action="store_true", help="log every API call and handler")
    run.set_defaults(run=run_operator)


def run_operator(args: argparse.Namespace) -> int:
    import kopf

    from ai2text.config import load_settings
    from ai2text.errors import InputError
    from operators.handlers import register as register_handlers

    if args.liveness_port is not None and not 1 <= args.liveness_port <= 65535:
        raise InputError("--liveness-port must be between 1 and 65535")
    settings = load_settings()
    kopf.configure(verbose=args.verbose)
    registry = kopf.OperatorRegistry()
    register_handlers(registry, settings)
    liveness = f"http://0.0.0.0:{args.liveness_port}/healthz" if args.liveness_port else None
    kopf.run(
        registry=registry,
        namespaces=[args.namespace],
        standalone=args.standalone,
        peering_name=None if args.standalone else settings.operator.peering,
        priority=args.priority,
        liveness_endpoint=liveness,
    )
    return 0
