"""Measurements models."""
