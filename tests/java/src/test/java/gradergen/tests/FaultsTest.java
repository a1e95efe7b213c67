package gradergen.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.OpenAIException;
import com.openai.errors.OpenAIInvalidDataException;
import com.openai.errors.OpenAIIoException;
import com.openai.errors.OpenAIResponseTooLargeException;
import com.openai.errors.OpenAITimeoutException;
import com.openai.errors.RateLimitException;
import com.openai.models.finetuning.alpha.graders.GraderValidateParams;
import com.openai.models.finetuning.alpha.graders.GraderValidateResponse;
import com.openai.models.graders.gradermodels.StringCheckGrader;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The client against a misbehaving server (tests/fault_server.py): the timeout is one deadline for the
 * whole attempt, the answer's size is bounded, and every failure is one of the package's exceptions. A
 * test that hangs fails at its {@code @Timeout}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FaultsTest {
    /** The documented default of {@code maxResponseBytes}. */
    private static final long DEFAULT_LIMIT = 32L * 1024 * 1024;
    /** The fault server's valid validate answer around its padded grader name. */
    private static final String ANSWER_HEAD = "{\"grader\":{\"input\":\"input\",\"name\":\"";
    private static final String ANSWER_TAIL =
        "\",\"operation\":\"eq\",\"reference\":\"reference\",\"type\":\"string_check\"}}";

    private static OpenAIClient.Builder client(String base) {
        return OpenAIClient.builder()
            .apiKey("sk-test")
            .baseUrl(FaultApi.url() + base)
            .timeout(Duration.ofSeconds(10))
            .maxRetries(0);
    }

    private static GraderValidateResponse validate(OpenAIClient.Builder client) {
        StringCheckGrader grader = StringCheckGrader.builder()
            .input("input")
            .name("name")
            .operation(StringCheckGrader.Operation.EQ)
            .reference("reference")
            .build();
        return client.build().fineTuning().alpha().graders().validate(GraderValidateParams.builder().grader(grader).build());
    }

    /** A base path of its own for each call, so that hit counts are never shared. */
    private static String unique(String scenario) {
        return scenario + "/java-" + System.nanoTime();
    }

    /** Raises {@code type}, the package's exception, carrying no library exception as its own class. */
    private static <T extends OpenAIException> T assertFails(Class<T> type, OpenAIClient.Builder client) {
        return assertThrows(type, () -> validate(client));
    }

    @Test
    void aServerThatNeverAnswersTimesOut() {
        assertFails(OpenAITimeoutException.class, client("/never-answers").timeout(Duration.ofSeconds(1)));
    }

    @Test
    void aBodyDrippedAByteAtATimeTimesOut() {
        // one byte every 100 ms: the whole body would take ~10 s; HttpClient's own timeout stops at the headers
        String base = unique("/slow-drip/100");
        assertFails(OpenAITimeoutException.class, client(base).timeout(Duration.ofSeconds(1)).maxRetries(1));
        assertEquals(2, FaultApi.hits(base), "each attempt has its own deadline");
    }

    @Test
    void aDripThatEndsInTimeSucceeds() {
        GraderValidateResponse response = validate(client("/slow-drip/5").timeout(Duration.ofSeconds(20)));
        assertTrue(response.grader().orElseThrow().isStringCheck());
    }

    @Test
    void aResetInTheMiddleOfTheBodyIsAConnectionError() {
        String base = unique("/reset-mid-body");
        OpenAIIoException e = assertFails(OpenAIIoException.class, client(base).maxRetries(1));
        assertFalse(e instanceof OpenAITimeoutException, e::toString);
        assertEquals(2, FaultApi.hits(base));
    }

    @Test
    void invalidJsonOnSuccessIsInvalidData() {
        String base = unique("/invalid-json");
        assertFails(OpenAIInvalidDataException.class, client(base).maxRetries(2));
        assertEquals(1, FaultApi.hits(base), "a bad answer is not retried");
    }

    @Test
    void jsonOfTheWrongShapeIsInvalidData() {
        OpenAIInvalidDataException e = assertFails(OpenAIInvalidDataException.class, client("/wrong-shape"));
        assertTrue(e.getMessage().contains("GraderValidateResponse"), e::getMessage);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/oversized", "/oversized-declared"})
    void anOversizedBodyIsRefusedAtTheDefaultLimit(String scenario) {
        String base = unique(scenario);
        OpenAIResponseTooLargeException e = assertFails(
            OpenAIResponseTooLargeException.class, client(base).timeout(Duration.ofSeconds(30)).maxRetries(2));
        assertEquals(DEFAULT_LIMIT, e.limit());
        assertEquals(200, e.statusCode());
        assertTrue(e.getMessage().contains("/validate"), e::getMessage);
        assertEquals(1, FaultApi.hits(base));
    }

    @Test
    void theLimitIsConfigurableAndInclusive() {
        int size = 4096;
        String base = "/json-of-size/" + size;
        assertTrue(validate(client(base).maxResponseBytes(size)).grader().orElseThrow().isStringCheck());
        OpenAIResponseTooLargeException e =
            assertFails(OpenAIResponseTooLargeException.class, client(base).maxResponseBytes(size - 1));
        assertEquals(size - 1, e.limit());
        assertThrows(IllegalArgumentException.class, () -> client(base).maxResponseBytes(0));
    }

    @Test
    void aStringOf25MbParses() {
        // past Jackson's default limit of 20 MB on a string, within the client's limit on an answer
        int size = 25_000_000;
        GraderValidateResponse response =
            validate(client("/json-of-size/" + size).timeout(Duration.ofSeconds(30)));
        String name = response.grader().orElseThrow().asStringCheck().name();
        assertEquals(size - ANSWER_HEAD.length() - ANSWER_TAIL.length(), name.length());
        assertTrue(name.chars().allMatch(c -> c == 'x'));
    }

    @Test
    void aHugeRetryAfterIsCapped() {
        // Retry-After: 99999 is past the 60 s cap, so the client waits its usual backoff and tries again
        String base = unique("/retry-after-huge");
        assertTrue(validate(client(base).maxRetries(1)).grader().orElseThrow().isStringCheck());
        assertEquals(2, FaultApi.hits(base));
    }

    @Test
    void aRetryAfterDateIsWaitedFor() {
        // 3 s ahead in whole seconds: the wait is over 2 s, where the first backoff is at most 0.5 s
        String base = unique("/retry-after-date/3");
        long began = System.nanoTime();
        assertTrue(validate(client(base).maxRetries(1)).grader().orElseThrow().isStringCheck());
        Duration waited = Duration.ofNanos(System.nanoTime() - began);
        assertEquals(2, FaultApi.hits(base));
        assertTrue(waited.toMillis() >= 1900 && waited.toSeconds() < 10, waited::toString);
    }

    @Test
    void aHugeRetryAfterWithoutRetriesIsARateLimitError() {
        RateLimitException e = assertFails(RateLimitException.class, client(unique("/retry-after-huge")));
        assertEquals(429, e.statusCode());
        assertEquals("rate_limit_exceeded", e.code().orElseThrow());
    }

    @Test
    void aBadRequestWithAnHtmlPageKeepsThePage() {
        BadRequestException e = assertFails(BadRequestException.class, client("/html-400"));
        assertEquals(400, e.statusCode());
        assertTrue(e.body().startsWith("<html>"), e::body);
        assertTrue(e.code().isEmpty());
        assertInstanceOf(OpenAIException.class, e);
    }

    @Test
    void aGzipBodyIsInvalidDataForAClientThatNeverAskedForOne() {
        // java.net.http sends no Accept-Encoding and decodes nothing: the gzip bytes are not JSON
        String base = unique("/corrupt-gzip");
        assertFails(OpenAIInvalidDataException.class, client(base).maxRetries(2));
        assertEquals(1, FaultApi.hits(base), "a bad answer is not retried");
    }

    @Test
    void anAnswerNested500DeepParses() {
        GraderValidateResponse response = validate(client("/deep-json/500"));
        JsonNode deep = response.grader().orElseThrow().asStringCheck().additionalProperties().get("deep");
        int levels = 0;
        while (deep.isArray() && !deep.isEmpty()) {
            deep = deep.get(0);
            levels++;
        }
        assertEquals(499, levels, "500 nested arrays, the innermost empty");
        assertTrue(deep.isArray(), deep::toString);
    }
}
