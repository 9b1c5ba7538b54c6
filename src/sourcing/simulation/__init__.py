"""Monte Carlo risk/cost simulation (placeholder)."""
