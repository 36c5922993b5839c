"""Sizing and routing: from what a strategy wants to orders an instrument's rules allow."""
