"""Measurements that print ratios, measured side by side in one run (docs/benchmarks.md)."""
