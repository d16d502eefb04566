"""A GraphQL server that answers the RunPod API calls the SDK and the collection make.

Start it with ``python -m tests.sandbox.runpod_api --port 0 --state FILE --api-key KEY``.
"""
