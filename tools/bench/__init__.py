"""Benchmarks: ``make bench`` runs them all; numbers go in the closing notes."""
