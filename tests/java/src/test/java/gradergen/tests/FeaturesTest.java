package gradergen.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.ApiResponse;
import com.openai.client.OpenAIClient;
import com.openai.client.OpenAIClientAsync;
import com.openai.client.RequestOptions;
import com.openai.errors.BadRequestException;
import com.openai.errors.OpenAITimeoutException;
import com.openai.errors.UnprocessableEntityException;
import com.openai.models.finetuning.alpha.graders.GraderRunParams;
import com.openai.models.finetuning.alpha.graders.GraderRunResponse;
import com.openai.models.graders.gradermodels.StringCheckGrader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client's features beside the calls (issue 14), asserted on what reached the mock API: RequestOptions,
 * withRawResponse, the async client, User-Agent, one Idempotency-Key per call and the request ids.
 */
class FeaturesTest {
    private static final Map<String, String> RETRY_NOW = Map.of("retry-after-ms", "10");
    private static final String KEY = "gradergen-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

    @BeforeEach
    void resetMock() {
        MockApi.reset();
    }

    private static OpenAIClient client() {
        return OpenAIClient.builder().apiKey("sk-test").baseUrl(MockApi.url()).build();
    }

    private static GraderRunParams params() {
        return GraderRunParams.builder()
            .grader(StringCheckGrader.builder()
                .input("input")
                .name("name")
                .operation(StringCheckGrader.Operation.EQ)
                .reference("reference")
                .build())
            .modelSample("Paris")
            .build();
    }

    private static List<String> sent(String header) {
        List<String> values = new ArrayList<>();
        for (JsonNode request : MockApi.requests()) {
            values.add(request.at("/headers/" + header).asText());
        }
        return values;
    }

    private static Throwable failureOf(CompletableFuture<?> future) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(30, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void theClientAndACallRefuseATimeoutOrRetriesTheyCannotUse() {
        List<Runnable> refused = List.of(
            () -> OpenAIClient.builder().timeout(Duration.ZERO),
            () -> RequestOptions.builder().timeout(Duration.ofSeconds(-1)),
            () -> OpenAIClient.builder().maxRetries(-1),
            () -> RequestOptions.builder().maxRetries(-2));
        List<String> messages = new ArrayList<>();
        for (Runnable setting : refused) {
            messages.add(assertThrows(IllegalArgumentException.class, setting::run).getMessage());
        }
        assertEquals(List.of(
            "timeout must be positive, not PT0S",
            "timeout must be positive, not PT-1S",
            "maxRetries must be 0 or more, not -1",
            "maxRetries must be 0 or more, not -2"), messages);
    }

    @Test
    void userAgentNamesTheArtifactVersionAndJava() {
        client().fineTuning().alpha().graders().run(params());
        assertEquals(List.of("openai-graders-java/1.0.0 java/" + System.getProperty("java.version")), sent("user-agent"));
    }

    @Test
    void oneIdempotencyKeyForEveryAttemptOfACall() {
        MockApi.enqueue(500, null, RETRY_NOW, 0);
        OpenAIClient client = client();
        client.fineTuning().alpha().graders().run(params());
        client.fineTuning().alpha().graders().run(params());
        List<String> keys = sent("idempotency-key");
        assertEquals(3, keys.size(), keys.toString());
        assertEquals(keys.get(0), keys.get(1));
        assertNotEquals(keys.get(1), keys.get(2));
        keys.forEach(key -> assertTrue(key.matches(KEY), key));
    }

    @Test
    void requestOptionsSendHeadersQueryParamsAndBodyProperties() {
        RequestOptions options = RequestOptions.builder()
            .putHeader("X-Trace", "t-1")
            .putHeader("Idempotency-Key", "mine")
            .putQueryParam("dry_run", "1 & more")
            .putBodyProperty("metadata", Map.of("team", "evals"))
            .putBodyProperty("model_sample", "overridden")
            .build();
        client().fineTuning().alpha().graders().run(params(), options);
        JsonNode request = MockApi.requests().get(0);
        assertEquals("/v1/fine_tuning/alpha/graders/run?dry_run=1+%26+more", request.get("path").asText());
        assertEquals("t-1", request.at("/headers/x-trace").asText());
        assertEquals("mine", request.at("/headers/idempotency-key").asText());
        assertEquals("overridden", request.at("/json/model_sample").asText());
        assertEquals("evals", request.at("/json/metadata/team").asText());
        assertEquals("string_check", request.at("/json/grader/type").asText());
    }

    @Test
    void requestOptionsTimeoutAndRetriesApplyToThatCallOnly() {
        MockApi.enqueue(200, null, Map.of(), 1.0);
        OpenAIClient client = client();
        RequestOptions quick = RequestOptions.builder().timeout(Duration.ofMillis(200)).maxRetries(0).build();
        long started = System.nanoTime();
        assertThrows(OpenAITimeoutException.class, () -> client.fineTuning().alpha().graders().run(params(), quick));
        assertTrue(System.nanoTime() - started < 900_000_000L, "the call's timeout was used");
        MockApi.enqueue(500, null, RETRY_NOW, 0);
        client.fineTuning().alpha().graders().run(params()); // retried with the client's settings
        assertEquals(3, MockApi.requests().size());
    }

    @Test
    void withRawResponseGivesStatusHeadersAndRequestId() {
        MockApi.enqueue(503, null, RETRY_NOW, 0);
        ApiResponse<GraderRunResponse> raw = client().fineTuning().alpha().graders().withRawResponse().run(params());
        assertEquals(200, raw.statusCode());
        assertEquals("req_mock_2", raw.requestId().orElseThrow());
        assertEquals(1, raw.retriesTaken());
        assertTrue(raw.body().contains("\"reward\""), raw.body());
        assertSame(raw.parse(), raw.parse());
        assertEquals("name", raw.parse().metadata().name());
    }

    @Test
    void anErrorCarriesTheRequestId() {
        MockApi.enqueue(400);
        BadRequestException e =
            assertThrows(BadRequestException.class, () -> client().fineTuning().alpha().graders().run(params()));
        assertEquals("req_mock_1", e.requestId().orElseThrow());
    }

    @Test
    void theAsyncClientSendsWhatTheBlockingOneSends() throws Exception {
        GraderRunResponse response = client().async().fineTuning().alpha().graders().run(params()).get(30, TimeUnit.SECONDS);
        assertEquals("name", response.metadata().name());
        JsonNode request = MockApi.requests().get(0);
        assertEquals("/v1/fine_tuning/alpha/graders/run", request.get("path").asText());
        assertEquals("Bearer sk-test", request.at("/headers/authorization").asText());
        Json.assertJsonEquals(Json.parse(params().toString()), request.get("json"), "body");
    }

    @Test
    void theAsyncClientRetriesWithOneKeyAndFailsWithTypedErrors() {
        MockApi.enqueue(500, null, RETRY_NOW, 0);
        MockApi.enqueue(429, null, RETRY_NOW, 0);
        MockApi.enqueue(422);
        Throwable failure = failureOf(OpenAIClientAsync.fromEnv().fineTuning().alpha().graders().run(params()));
        UnprocessableEntityException e = assertInstanceOf(UnprocessableEntityException.class, failure);
        assertEquals("req_mock_3", e.requestId().orElseThrow());
        assertEquals(1, new HashSet<>(sent("idempotency-key")).size());
        assertEquals(3, MockApi.requests().size());
    }

    @Test
    void theAsyncClientTimesOutAndTakesOptions() {
        MockApi.enqueue(200, null, Map.of(), 1.0);
        RequestOptions quick = RequestOptions.builder().timeout(Duration.ofMillis(200)).maxRetries(0).build();
        long started = System.nanoTime();
        Throwable failure = failureOf(client().async().fineTuning().alpha().graders().run(params(), quick));
        assertInstanceOf(OpenAITimeoutException.class, failure);
        assertTrue(System.nanoTime() - started < 900_000_000L, "the call's timeout was used");
    }

    @Test
    void theAsyncClientRunsCallsConcurrently() throws Exception {
        for (int i = 0; i < 4; i++) {
            MockApi.enqueue(200, null, Map.of(), 0.5);
        }
        OpenAIClientAsync client = OpenAIClient.builder().apiKey("k").baseUrl(MockApi.url()).buildAsync();
        long started = System.nanoTime();
        List<CompletableFuture<GraderRunResponse>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            calls.add(client.fineTuning().alpha().graders().run(params()));
        }
        CompletableFuture.allOf(calls.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
        assertTrue(System.nanoTime() - started < 1_600_000_000L, "one after the other would take 2 s");
        assertEquals(4, new HashSet<>(sent("idempotency-key")).size());
    }

    @Test
    void theAsyncClientHasRawResponses() throws Exception {
        ApiResponse<GraderRunResponse> raw =
            client().async().fineTuning().alpha().graders().withRawResponse().run(params()).get(30, TimeUnit.SECONDS);
        assertEquals("req_mock_1", raw.requestId().orElseThrow());
        assertEquals(200, raw.statusCode());
    }
}
