# Java: the jar, the sources jar and the javadoc jar (javadoc's doclint on, warnings are errors) with the
# pom, deployed into $(DIST)/java as a Maven repository (the layout Maven Central takes). Built in a copy
# of generated/java, so that no target/ lands in generated/.
.PHONY: dist-java
dist-java: generate
	rm -rf $(DIST)/java $(DIST_BUILD)/java
	mkdir -p $(DIST_BUILD)
	cp -R generated/java $(DIST_BUILD)/java
	cd $(DIST_BUILD)/java && mvn -B -q -Dstyle.color=never \
	  package source:jar-no-fork javadoc:jar deploy:deploy \
	  -DaltDeploymentRepository=dist::file://$(abspath $(DIST))/java
