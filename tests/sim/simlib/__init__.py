"""Kubernetes API simulator and node stand-ins for certroll's tests.

Standard library only. See docs/simulator.md for what is modelled.
"""
