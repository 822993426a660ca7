"""Quality issues (docs/kits-and-issues.md)."""
