"""Repositories: query functions per aggregate; the only place that builds SQL."""
