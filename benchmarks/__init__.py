"""Benchmarks: scripts that measure and print a table. They assert nothing (``make bench``)."""
