"""Bundled datasets in the interchange format."""
