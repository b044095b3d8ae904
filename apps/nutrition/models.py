"""Nutrition models."""
