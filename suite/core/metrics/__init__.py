"""Metric maths shared by the domains: classification, ranking, generation."""
