package gradergen.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.ObjectMappers;
import com.openai.errors.BadRequestException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.finetuning.alpha.graders.GraderRunParams;
import com.openai.models.finetuning.alpha.graders.GraderRunResponse;
import com.openai.models.finetuning.alpha.graders.GraderValidateParams;
import com.openai.models.finetuning.alpha.graders.GraderValidateResponse;
import com.openai.models.graders.gradermodels.Grader;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The client against {@code gradergen serve} (SERVER_URL, SERVER_API_KEY, set by tests/test_java.py): a run and
 * a validate of every grader type in fixtures/server/every_grader_type.json, and the errors of invalid graders.
 */
class ServerTest {
    private static final JsonNode CASES = Fixtures.load("server/every_grader_type.json");

    private static String env(String name) {
        String value = System.getenv(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException(name + " is not set: run this suite through tests/test_java.py");
        }
        return value;
    }

    private static OpenAIClient client(String apiKey) {
        return OpenAIClient.builder().apiKey(apiKey).baseUrl(env("SERVER_URL")).maxRetries(0).build();
    }

    private static OpenAIClient client() {
        return client(env("SERVER_API_KEY"));
    }

    static Stream<Arguments> cases() {
        return StreamSupport.stream(CASES.get("cases").spliterator(), false)
            .map(c -> Arguments.of(c.get("name").asText(), c));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void runOfEveryGraderType(String name, JsonNode c) {
        GraderRunParams params = ObjectMappers.fromJson(c.get("body").toString(), GraderRunParams.class);
        GraderRunResponse response = client().fineTuning().alpha().graders().run(params);
        assertEquals(c.get("reward").asDouble(), response.reward(), 1e-12, name + " reward");
        assertEquals(c.at("/body/grader/type").asText(), response.metadata().type());
        JsonNode json = Json.parse(ObjectMappers.toJson(response));
        List<String> flags = new ArrayList<>();
        json.at("/metadata/errors").fields().forEachRemaining(e -> {
            if (e.getValue().isBoolean() && e.getValue().asBoolean()) {
                flags.add(e.getKey());
            }
        });
        List<String> expected = new ArrayList<>();
        c.get("flags").forEach(f -> expected.add(f.asText()));
        assertEquals(expected, flags.stream().sorted().toList(), name + " flags");
        JsonNode subRewards = c.has("sub_rewards") ? c.get("sub_rewards") : Json.PLAIN.createObjectNode();
        Json.assertJsonEquals(subRewards, json.get("sub_rewards"), name + " sub_rewards");
        if (c.has("sampled_model_name")) {
            assertEquals(c.get("sampled_model_name").asText(), response.metadata().sampledModelName().orElseThrow());
        }
        if (c.has("runtime_details_contain")) {
            String details = json.at("/metadata/errors/python_grader_runtime_error_details").asText();
            assertTrue(details.contains(c.get("runtime_details_contain").asText()), details);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void validateOfEveryGraderType(String name, JsonNode c) {
        JsonNode grader = c.at("/body/grader");
        GraderValidateParams params =
            ObjectMappers.fromJson("{\"grader\": " + grader + "}", GraderValidateParams.class);
        GraderValidateResponse response = client().fineTuning().alpha().graders().validate(params);
        Grader echoed = response.grader().orElseThrow();
        assertFalse(echoed.isUnknown(), name + " grader recognised");
        Json.assertJsonEquals(grader, ObjectMappers.toJson(echoed), name + " grader echoed");
    }

    /** The client sends an operation outside the enum as it is (its enums are open): the server refuses both. */
    @ParameterizedTest
    @ValueSource(strings = {"invalid", "invalid_formula"})
    void anInvalidGraderIsRefusedWithItsParam(String which) {
        JsonNode want = CASES.get(which);
        GraderValidateParams params =
            ObjectMappers.fromJson(want.get("body").toString(), GraderValidateParams.class);
        BadRequestException e = assertThrows(
            BadRequestException.class, () -> client().fineTuning().alpha().graders().validate(params));
        assertEquals(want.get("status").asInt(), e.statusCode());
        assertEquals(want.get("code").asText(), e.code().orElseThrow());
        assertEquals(want.get("param").asText(), e.param().orElseThrow());
        assertEquals("invalid_request_error", e.type().orElseThrow());
        assertTrue(e.message().contains(want.get("message_contains").asText()), e.message());
    }

    @Test
    void aWrongKeyIsUnauthorized() {
        GraderValidateParams params = ObjectMappers.fromJson(
            "{\"grader\": " + CASES.at("/cases/0/body/grader") + "}", GraderValidateParams.class);
        UnauthorizedException e = assertThrows(
            UnauthorizedException.class, () -> client("sk-wrong").fineTuning().alpha().graders().validate(params));
        assertEquals(401, e.statusCode());
        assertEquals("invalid_api_key", e.code().orElseThrow());
    }
}
