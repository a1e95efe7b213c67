# Python: the sdist of generated/python and the wheel built from it, checked by twine.
.PHONY: dist-python
dist-python: generate
	rm -rf $(DIST)/python
	$(BIN)/python -m build --no-isolation --outdir $(abspath $(DIST))/python generated/python
	$(BIN)/twine check --strict $(DIST)/python/*
