"""Podcasts: RSS subscriptions downloaded into the library as TV shows."""
