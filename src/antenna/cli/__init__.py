"""The `antenna` command line."""
