"""Thin loaders that land raw inputs in Bronze Delta tables."""
