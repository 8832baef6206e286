"""Housekeeping: purge the trash past its retention and drop old job history."""
