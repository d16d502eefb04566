"""The offline RunPod world used by tests, benchmarks and ``make demo``.

Each part speaks the real wire protocol of the party it stands in for, so the
collection's code runs against it unchanged (see DESIGN.md section 4).
"""
