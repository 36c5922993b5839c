"""Positions and P&L per account and per strategy; exposure queries for risk."""
