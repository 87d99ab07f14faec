"""pytest glue for zkdrill (placeholder until the harness plugin lands)."""
