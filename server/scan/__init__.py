"""Scanning: reading barcodes from photos (`decode`), and understanding and printing labels."""
