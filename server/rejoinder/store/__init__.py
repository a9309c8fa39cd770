"""Storage: the only package that issues Redis commands."""
