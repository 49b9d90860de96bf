"""Observability sinks: metrics, traces and logs."""
