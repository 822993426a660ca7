"""Printable labels for units, lots, locations and parts: symbols (zxing-cpp), layout, SVG/PDF/ZPL."""
