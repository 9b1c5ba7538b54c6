"""Multi-criteria vendor scoring (placeholder, filled below)."""
