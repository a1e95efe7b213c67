# TypeScript: the npm package (`npm pack`), compiled by the TypeScript the templates pin (their tooling,
# installed once by the formatter into the cache and linked in as node_modules); no scripts run at pack.
TS_TOOLS = $(BIN)/python -c 'from gradergen.languages import beside; print(beside("typescript", "format.py").tools_dir())'

.PHONY: dist-typescript
dist-typescript: generate
	rm -rf $(DIST)/typescript $(DIST_BUILD)/typescript
	mkdir -p $(DIST_BUILD) $(DIST)/typescript
	cp -R generated/typescript $(DIST_BUILD)/typescript
	ln -s "$$($(TS_TOOLS))/node_modules" $(DIST_BUILD)/typescript/node_modules
	cd $(DIST_BUILD)/typescript && node node_modules/typescript/bin/tsc -p tsconfig.json
	rm $(DIST_BUILD)/typescript/node_modules
	cd $(DIST_BUILD)/typescript && npm pack --ignore-scripts --silent --pack-destination $(abspath $(DIST))/typescript >/dev/null
