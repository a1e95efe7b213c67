package gradergen.tests;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;

/** JSON helpers: parsing with a plain mapper (not the one under test) and the harness's equality. */
final class Json {
    static final ObjectMapper PLAIN = new ObjectMapper();

    private Json() {}

    static JsonNode parse(String text) {
        try {
            return PLAIN.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(Path path) {
        try {
            return PLAIN.readTree(Files.readString(path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Equal as JSON documents: numbers by value (1 == 1.0), key order ignored, null is not absent. */
    static boolean equal(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        if (a.isObject() && b.isObject()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (Iterator<String> names = a.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!b.has(name) || !equal(a.get(name), b.get(name))) {
                    return false;
                }
            }
            return true;
        }
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (!equal(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    static void assertJsonEquals(JsonNode expected, JsonNode actual, String what) {
        if (!equal(expected, actual)) {
            fail(what + "\nexpected: " + expected + "\nactual:   " + actual);
        }
    }

    static void assertJsonEquals(JsonNode expected, String actual, String what) {
        assertJsonEquals(expected, parse(actual), what);
    }
}
