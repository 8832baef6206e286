"""Antenna: a self-hosted companion for home media servers."""

__version__ = "0.1.0"
