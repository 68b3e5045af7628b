"""Situation Room data layer: readers, places, the store and the read API."""
