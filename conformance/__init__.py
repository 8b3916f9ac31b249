"""A black-box conformance suite for Solid servers: ``python -m conformance run --server URL``.

Python API: ``conformance.runner.run_suite(url, ...)`` returns a ``Run`` with every outcome.
Nothing here imports the pod server: the suite judges any server over HTTP only.
"""
