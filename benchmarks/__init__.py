"""Measurements that print ratios, measured side by side in one run (README.md, Benchmarks)."""
