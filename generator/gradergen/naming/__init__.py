"""Per-language naming: one table per language, applied to the IR by `apply_naming`."""
