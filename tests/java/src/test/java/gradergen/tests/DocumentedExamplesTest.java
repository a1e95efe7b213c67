package gradergen.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java examples of the seed documents (004: run and validate, 003: validate), compiled with
 * -Xlint:all -Werror against the bindings generated with --java-package com.openai and run against the
 * mock server. tests/test_java.py writes them to tests.examples with only the client construction adapted
 * and lists them in examples.json with the request body the document implies.
 */
class DocumentedExamplesTest {
    static Stream<Arguments> examples() {
        List<Arguments> out = new ArrayList<>();
        Json.read(examplesDir().resolve("examples.json")).forEach(e -> out.add(Arguments.of(
            e.get("name").asText(), e.get("source").asText(), e.get("expected").asText(), e.get("path").asText())));
        return out.stream();
    }

    @Test
    void threeExamplesAreRun() {
        assertEquals(List.of("003_java_validate", "004_java_run", "004_java_validate"),
            examples().map(a -> (String) a.get()[0]).sorted().collect(Collectors.toList()));
    }

    @Test
    void theExamplesTalkToTheMockServer() {
        // the adapted examples build their client with fromEnv(): it must point at the mock, not the API
        assertEquals(MockApi.url(), System.getenv("OPENAI_BASE_URL"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void theExampleSendsTheDocumentedBody(String name, String source, String expected, String path)
            throws Exception {
        Path classes = Files.createTempDirectory(examplesDir(), name + "-classes-");
        compile(Path.of(source), classes);
        MockApi.reset();
        runMain(classes, "com.openai.example.Main");

        JsonNode requests = MockApi.requests();
        assertEquals(1, requests.size(), "requests sent: " + requests);
        JsonNode request = requests.get(0);
        assertEquals("POST", request.get("method").asText());
        assertEquals("/v1" + path, request.get("path").asText());
        assertEquals("Bearer " + System.getenv("OPENAI_API_KEY"), request.at("/headers/authorization").asText());
        assertTrue(request.at("/headers/content-type").asText().startsWith("application/json"));
        Json.assertJsonEquals(Fixtures.load(expected), request.get("json"), name + " request body");
    }

    private static void compile(Path source, Path classes) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertTrue(javac != null, "no system Java compiler: run the tests on a JDK");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
            List<String> options = List.of(
                "-Xlint:all", "-Werror", "-proc:none", "--release", "17",
                "-classpath", System.getProperty("java.class.path"), "-d", classes.toString());
            Iterable<? extends JavaFileObject> units = files.getJavaFileObjects(source.toFile());
            boolean ok = javac.getTask(null, files, diagnostics, options, null, units).call();
            List<String> problems = new ArrayList<>();
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                problems.add(d.getKind() + " line " + d.getLineNumber() + ": " + d.getMessage(Locale.ROOT));
            }
            assertTrue(ok, source + " does not compile:\n" + String.join("\n", problems));
            assertFalse(problems.stream().anyMatch(p -> p.startsWith("WARNING") || p.startsWith("MANDATORY")),
                "compiler warnings: " + problems);
        }
    }

    private static void runMain(Path classes, String className) throws Exception {
        URL[] urls = {classes.toUri().toURL()};
        try (URLClassLoader loader = new URLClassLoader(urls, DocumentedExamplesTest.class.getClassLoader())) {
            try {
                loader.loadClass(className).getMethod("main", String[].class).invoke(null, (Object) new String[0]);
            } catch (InvocationTargetException e) {
                fail("the example threw " + e.getCause(), e.getCause());
            }
        }
    }

    private static Path examplesDir() {
        String dir = System.getProperty("tests.examples");
        if (dir == null || !new File(dir, "examples.json").isFile()) {
            throw new IllegalStateException("no examples.json in tests.examples: run through tests/test_java.py");
        }
        return Path.of(dir);
    }
}
