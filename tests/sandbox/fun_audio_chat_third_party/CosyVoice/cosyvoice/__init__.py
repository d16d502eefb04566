"""Stand-in for the CosyVoice package (sandbox)."""
