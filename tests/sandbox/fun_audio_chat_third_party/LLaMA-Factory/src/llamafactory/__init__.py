"""Stand-in for the llamafactory package (sandbox)."""
