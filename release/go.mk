# Go: the module as a proxy serves it (list, .info, .mod and the module zip) under $(DIST)/go, usable as
# GOPROXY=file://$(abspath $(DIST))/go. The zip is made and checked by golang.org/x/mod/zip.
.PHONY: dist-go
dist-go: generate
	rm -rf $(DIST)/go
	mkdir -p $(DIST_BUILD)
	cd release/gomodzip && GOTOOLCHAIN=local GOWORK=off go build -o $(abspath $(DIST_BUILD))/gomodzip .
	$(DIST_BUILD)/gomodzip -dir generated/go -version $(SPEC_VERSION) -out $(DIST)/go
