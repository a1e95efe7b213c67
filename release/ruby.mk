# Ruby: the gem, built with --strict (a warning, such as a missing homepage, fails the build).
.PHONY: dist-ruby
dist-ruby: generate
	rm -rf $(DIST)/ruby $(DIST_BUILD)/ruby
	mkdir -p $(DIST_BUILD) $(DIST)/ruby
	cp -R generated/ruby $(DIST_BUILD)/ruby
	cd $(DIST_BUILD)/ruby && gem build --strict *.gemspec
	mv $(DIST_BUILD)/ruby/*.gem $(DIST)/ruby/
