"""Artifact store on a local directory."""
