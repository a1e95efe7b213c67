package gradergen.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.ObjectMappers;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The forward-compatibility cases made from the IR (tests/forward_cases.py, written by test_java.py to the
 * file in {@code tests.irCases}): every union keeps a value no member reads in its fallback, every open
 * enum keeps an unknown value, every struct that keeps unknown properties keeps one; each is written back
 * unchanged.
 */
class IrForwardCompatTest {
    static Stream<Arguments> cases() {
        String file = System.getProperty("tests.irCases", "");
        assertTrue(!file.isEmpty(), "tests.irCases names no file of cases");
        List<Arguments> out = new ArrayList<>();
        for (JsonNode c : Json.read(Path.of(file))) {
            out.add(Arguments.of(c.get("id").textValue(), c));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void whatANewerApiSendsIsKept(String id, JsonNode c) throws ReflectiveOperationException {
        Class<?> type = Class.forName(c.get("class").textValue());
        Object parsed = ObjectMappers.fromJson(c.get("document").toString(), type);
        String written = ObjectMappers.toJson(parsed);
        assertTrue(Json.equal(c.get("expected"), Json.parse(written)),
                id + ": written back as " + written + ", expected " + c.get("expected"));
        assertEquals(c.get("landed").booleanValue(), landedAside(c, type, parsed),
                id + ": " + c.get("document") + (c.get("landed").booleanValue() ? " was not kept aside" : " was kept aside"));
    }

    /** Whether the value is where the rule keeps what this version does not know. */
    private static boolean landedAside(JsonNode c, Class<?> type, Object parsed) throws ReflectiveOperationException {
        switch (c.get("kind").textValue()) {
            case "union":
                return (Boolean) type.getMethod("is" + c.get("fallback").textValue()).invoke(parsed);
            case "enum":
                return !(Boolean) type.getMethod("isKnown").invoke(parsed);
            default:
                Method extras;
                try {
                    extras = type.getMethod("additionalProperties");
                } catch (NoSuchMethodException e) {
                    return false;
                }
                return ((Map<?, ?>) extras.invoke(parsed)).containsKey(c.get("extra").textValue());
        }
    }
}
