"""Thin Spyne services: SOAP in, calls on the core, SOAP out (STYLE.md). Only here and in hub/model
does Spyne appear."""
