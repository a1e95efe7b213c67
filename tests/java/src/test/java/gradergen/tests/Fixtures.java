package gradergen.tests;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The shared JSON fixtures (tests/fixtures), located by the tests.fixtures system property. */
final class Fixtures {
    private Fixtures() {}

    static Path dir() {
        String dir = System.getProperty("tests.fixtures");
        if (dir == null) {
            throw new IllegalStateException("tests.fixtures is not set: run this suite with Maven");
        }
        return Path.of(dir);
    }

    static JsonNode load(String relative) {
        return Json.read(dir().resolve(relative));
    }

    /** The entries of index.json: {file, kind, source, example}. */
    static List<JsonNode> index() {
        List<JsonNode> entries = new ArrayList<>();
        load("index.json").forEach(entries::add);
        return entries;
    }

    /** The entries of errors/index.json: {file, status, ...}. */
    static List<JsonNode> errors() {
        List<JsonNode> entries = new ArrayList<>();
        load("errors/index.json").forEach(entries::add);
        return entries;
    }
}
