"""Sketches and images to HTML."""
