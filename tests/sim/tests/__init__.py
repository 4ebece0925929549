"""Tests of the Kubernetes API simulator and the node stand-ins."""
