package gradergen.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.ConflictException;
import com.openai.errors.InternalServerException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIException;
import com.openai.errors.OpenAIInvalidDataException;
import com.openai.errors.OpenAIIoException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.OpenAITimeoutException;
import com.openai.errors.PermissionDeniedException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.errors.UnprocessableEntityException;
import com.openai.models.finetuning.alpha.graders.GraderRunParams;
import com.openai.models.finetuning.alpha.graders.GraderRunResponse;
import com.openai.models.finetuning.alpha.graders.GraderValidateParams;
import com.openai.models.finetuning.alpha.graders.GraderValidateResponse;
import com.openai.models.graders.gradermodels.StringCheckGrader;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The client against the mock server: requests, retries with backoff, timeouts and typed errors. */
class ClientTest {
    private static final String RUN = "/v1/fine_tuning/alpha/graders/run";
    private static final Map<String, String> RETRY_NOW = Map.of("retry-after-ms", "10");

    @BeforeEach
    void resetMock() {
        MockApi.reset();
    }

    private static OpenAIClient client() {
        return OpenAIClient.builder().apiKey("sk-test").baseUrl(MockApi.url()).build();
    }

    private static StringCheckGrader grader() {
        return StringCheckGrader.builder()
            .input("{{ sample.output_text }}")
            .name("exact")
            .operation(StringCheckGrader.Operation.EQ)
            .reference("{{ item.label }}")
            .build();
    }

    private static GraderRunParams runParams() {
        return GraderRunParams.builder().grader(grader()).modelSample("Paris").build();
    }

    private static GraderRunResponse run(OpenAIClient client) {
        return client.fineTuning().alpha().graders().run(runParams());
    }

    private static int requestCount() {
        return MockApi.requests().size();
    }

    @Test
    void runPostsTheParamsWithTheKeyAndParsesTheAnswer() {
        GraderRunResponse response = run(client());
        JsonNode request = MockApi.requests().get(0);
        assertEquals("POST", request.get("method").asText());
        assertEquals(RUN, request.get("path").asText());
        assertEquals("Bearer sk-test", request.at("/headers/authorization").asText());
        assertEquals("application/json", request.at("/headers/content-type").asText());
        assertTrue(request.at("/headers/user-agent").asText().startsWith("openai-graders-java/"));
        Json.assertJsonEquals(Json.parse(runParams().toString()), request.get("json"), "body");
        // the mock answers a run with the documented placeholder response
        Json.assertJsonEquals(Fixtures.load("responses/run/000_cli.json"), response.toString(), "response");
    }

    @Test
    void validateEchoesTheGrader() {
        GraderValidateResponse response =
            client().fineTuning().alpha().graders().validate(GraderValidateParams.builder().grader(grader()).build());
        assertEquals(grader(), response.grader().orElseThrow().asStringCheck());
        assertEquals("/v1/fine_tuning/alpha/graders/validate", MockApi.requests().get(0).get("path").asText());
    }

    @Test
    void fromEnvReadsTheKeyAndTheBaseUrl() {
        run(OpenAIClient.fromEnv());
        JsonNode request = MockApi.requests().get(0);
        assertEquals("Bearer " + System.getenv("OPENAI_API_KEY"), request.at("/headers/authorization").asText());
        assertEquals(RUN, request.get("path").asText());
    }

    @Test
    void aTrailingSlashOnTheBaseUrlIsIgnored() {
        run(OpenAIClient.builder().apiKey("k").baseUrl(MockApi.url() + "/").build());
        assertEquals(RUN, MockApi.requests().get(0).get("path").asText());
    }

    @Test
    void withoutAnApiKeyTheClientRefusesToStart() throws Exception {
        // the environment of this JVM has OPENAI_API_KEY, so ask a child JVM without it
        ProcessBuilder child = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), NoApiKey.class.getName());
        child.environment().remove("OPENAI_API_KEY");
        child.redirectErrorStream(true);
        Process process = child.start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "child JVM finished");
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("OpenAIException: No API key"), output);
    }

    @Test
    void aBaseUrlThatIsNotHttpIsRejected() {
        OpenAIException e = assertThrows(
            OpenAIException.class, () -> OpenAIClient.builder().apiKey("k").baseUrl("ftp://example.com").build());
        assertTrue(e.getMessage().contains("ftp://example.com"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {408, 409, 429, 500, 502, 503, 504})
    void retryableStatusesAreRetried(int status) {
        MockApi.enqueue(status, null, RETRY_NOW, 0);
        GraderRunResponse response = run(client());
        assertEquals(2, requestCount());
        assertEquals("name", response.metadata().name()); // the placeholder response
    }

    @Test
    void twoRetriesThenTheErrorIsThrown() {
        JsonNode envelope = Fixtures.load("errors/429_rate_limit.json");
        for (int i = 0; i < 3; i++) {
            MockApi.enqueue(429, envelope, RETRY_NOW, 0);
        }
        RateLimitException e = assertThrows(RateLimitException.class, () -> run(client()));
        assertEquals(3, requestCount());
        assertEquals(429, e.statusCode());
        assertEquals("rate_limit_exceeded", e.code().orElseThrow());
        assertEquals(envelope.at("/error/message").asText(), e.message());
        assertEquals("requests", e.type().orElseThrow());
        assertTrue(e.param().isEmpty());
        assertEquals("req_mock_3", e.requestId().orElseThrow());
    }

    @Test
    void maxRetriesZeroSendsOnce() {
        MockApi.enqueue(500, null, RETRY_NOW, 0);
        OpenAIClient client = OpenAIClient.builder().apiKey("k").baseUrl(MockApi.url()).maxRetries(0).build();
        assertThrows(InternalServerException.class, () -> run(client));
        assertEquals(1, requestCount());
    }

    @Test
    void withoutRetryAfterTheClientBacksOff() {
        MockApi.enqueue(503);
        long start = System.nanoTime();
        run(client());
        long waitedMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(2, requestCount());
        assertTrue(waitedMillis >= 375, "first backoff is 0.5 s less up to a quarter, waited " + waitedMillis);
    }

    @Test
    void retryAfterIsHonoured() {
        MockApi.enqueue(429, null, Map.of("retry-after", "0.3"), 0);
        long start = System.nanoTime();
        run(client());
        long waitedMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(waitedMillis >= 300, "waited " + waitedMillis);
        assertEquals(2, requestCount());
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 401, 403, 404, 422})
    void clientErrorsAreNotRetried(int status) {
        MockApi.enqueue(status);
        OpenAIServiceException e = assertThrows(OpenAIServiceException.class, () -> run(client()));
        assertEquals(1, requestCount());
        assertEquals(status, e.statusCode());
        Class<?> expected = switch (status) {
            case 400 -> BadRequestException.class;
            case 401 -> UnauthorizedException.class;
            case 403 -> PermissionDeniedException.class;
            case 404 -> NotFoundException.class;
            default -> UnprocessableEntityException.class;
        };
        assertInstanceOf(expected, e);
        assertTrue(e.getMessage().startsWith("HTTP " + status), e.getMessage());
    }

    @Test
    void everyErrorFixtureBecomesATypedExceptionWithItsFields() {
        for (JsonNode entry : Fixtures.errors()) {
            MockApi.reset();
            int status = entry.get("status").asInt();
            JsonNode envelope = Fixtures.load(entry.get("file").asText());
            for (int i = 0; i < 3; i++) {
                MockApi.enqueue(status, envelope, RETRY_NOW, 0);
            }
            OpenAIServiceException e = assertThrows(OpenAIServiceException.class, () -> run(client()));
            JsonNode error = envelope.get("error");
            assertEquals(status, e.statusCode());
            assertEquals(error.get("message").asText(), e.message(), entry.toString());
            assertEquals(error.get("code").isNull() ? null : error.get("code").asText(), e.code().orElse(null));
            assertEquals(error.get("param").isNull() ? null : error.get("param").asText(), e.param().orElse(null));
            assertEquals(error.get("type").asText(), e.type().orElseThrow());
            assertEquals(error.get("message").asText(), e.error().orElseThrow().message());
            if (status >= 500) {
                assertInstanceOf(InternalServerException.class, e);
            }
        }
    }

    @Test
    void anInvalidGraderIsRejectedByTheServerWithTheParam() {
        // the mock validates bodies against the spec: an operation the spec does not list is a 400
        GraderRunParams params = runParams().toBuilder()
            .grader(grader().toBuilder().operation(StringCheckGrader.Operation.of("gt")).build())
            .build();
        BadRequestException e =
            assertThrows(BadRequestException.class, () -> client().fineTuning().alpha().graders().run(params));
        assertEquals("/grader/operation", e.param().orElseThrow());
        assertEquals("invalid_request_body", e.code().orElseThrow());
        assertTrue(e.getMessage().contains("(param: /grader/operation)"), e.getMessage());
    }

    @Test
    void aConflictIsRetriedAndThenThrown() {
        for (int i = 0; i < 3; i++) {
            MockApi.enqueue(409, null, RETRY_NOW, 0);
        }
        ConflictException e = assertThrows(ConflictException.class, () -> run(client()));
        assertEquals(409, e.statusCode());
        assertEquals(3, requestCount());
    }

    @Test
    void anErrorBodyThatIsNotJsonStillGivesStatusAndText() {
        MockApi.enqueueText(418, "I'm a teapot");
        OpenAIServiceException e = assertThrows(OpenAIServiceException.class, () -> run(client()));
        assertEquals(418, e.statusCode());
        assertEquals("I'm a teapot", e.message());
        assertTrue(e.code().isEmpty());
        assertTrue(e.error().isEmpty());
        assertEquals("HTTP 418: I'm a teapot", e.getMessage());
    }

    @Test
    void aDroppedConnectionIsRetried() {
        MockApi.enqueueDisconnect();
        run(client());
        assertEquals(2, requestCount());
    }

    @Test
    void droppedConnectionsThrowAfterTwoRetries() {
        for (int i = 0; i < 3; i++) {
            MockApi.enqueueDisconnect();
        }
        OpenAIIoException e = assertThrows(OpenAIIoException.class, () -> run(client()));
        assertEquals(3, requestCount());
        assertTrue(e.getMessage().contains("after 3 attempt(s)"), e.getMessage());
    }

    @Test
    void aServerThatIsNotThereIsAnIoException() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        OpenAIClient client =
            OpenAIClient.builder().apiKey("k").baseUrl("http://127.0.0.1:" + port + "/v1").maxRetries(0).build();
        assertThrows(OpenAIIoException.class, () -> run(client));
    }

    @Test
    void aSlowAnswerTimesOut() {
        MockApi.enqueue(200, null, Map.of(), 2.0);
        OpenAIClient client = OpenAIClient.builder()
            .apiKey("k").baseUrl(MockApi.url()).timeout(Duration.ofMillis(300)).maxRetries(0).build();
        long start = System.nanoTime();
        assertThrows(OpenAITimeoutException.class, () -> run(client));
        assertTrue((System.nanoTime() - start) / 1_000_000 < 1900, "gave up before the answer came");
    }

    @Test
    void aTimeoutIsRetried() {
        MockApi.enqueue(200, null, Map.of(), 2.0);
        OpenAIClient client = OpenAIClient.builder()
            .apiKey("k").baseUrl(MockApi.url()).timeout(Duration.ofMillis(300)).build();
        GraderRunResponse response = run(client);
        assertEquals(2, requestCount());
        assertTrue(response.metadata().errors().formulaParseError());
    }

    @Test
    void anAnswerThatDoesNotFitTheSpecIsInvalidData() {
        MockApi.enqueue(200, Json.parse("{\"metadata\": {}, \"reward\": 1}"));
        OpenAIInvalidDataException e = assertThrows(OpenAIInvalidDataException.class, () -> run(client()));
        assertTrue(e.getMessage().contains("POST /fine_tuning/alpha/graders/run"), e.getMessage());
        assertTrue(e.getMessage().contains("is required"), e.getMessage());
    }

    @Test
    void anAnswerThatIsNotJsonIsInvalidData() {
        MockApi.enqueueText(200, "<html>oops</html>");
        assertThrows(OpenAIInvalidDataException.class, () -> run(client()));
        assertEquals(1, requestCount());
    }

    @Test
    void builderArgumentsAreChecked() {
        OpenAIClient.Builder builder = OpenAIClient.builder();
        assertThrows(IllegalArgumentException.class, () -> builder.maxRetries(-1));
        assertThrows(IllegalArgumentException.class, () -> builder.timeout(Duration.ZERO));
        assertEquals(List.of(2, Duration.ofMinutes(10)),
            List.of(OpenAIClient.DEFAULT_MAX_RETRIES, OpenAIClient.DEFAULT_TIMEOUT));
    }

    /** Run in a child JVM without OPENAI_API_KEY by withoutAnApiKeyTheClientRefusesToStart. */
    static final class NoApiKey {
        private NoApiKey() {}

        public static void main(String[] args) {
            try {
                OpenAIClient.fromEnv();
                System.out.println("built a client without an API key");
                System.exit(1);
            } catch (OpenAIException e) {
                System.out.println(e);
            }
        }
    }
}
