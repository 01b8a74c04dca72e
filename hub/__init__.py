"""Platforma komunikacyjna: the hub role (SOAP services, policy, query engine, replicas)."""

__version__ = "0.1.0"
