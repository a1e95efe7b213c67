"""Per-language naming: one table per language; `apply_naming` returns its names of an IR (`Names`)."""
