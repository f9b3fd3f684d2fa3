"""Ports: typing.Protocol interfaces the domain services need. They import only domain types."""
