"""Importing parts, locations, suppliers and opening stock from CSV files, and exporting them the same way.

`table` reads and writes the files; `cells` types a cell by the API's own Structs; `parts`, `locations`,
`suppliers` and `stock` are the four kinds (their checks, their writes, their export); `presets` reads other
systems' exports; `service` runs an import (dry run, all or nothing, or skipping bad rows) and `report` says
what it did. `cli` is `gemba import` / `gemba export`, `pages` and `jobs` the supervisor pages' upload.
"""
