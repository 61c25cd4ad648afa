"""The `callosum` command line."""
