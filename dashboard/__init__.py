"""Iran–Pakistan border crisis dashboard: sourced layers, events and exact WGS84 measurement."""

__version__ = "0.1.0"
