package gradergen.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.core.ObjectMappers;
import com.openai.errors.ErrorResponse;
import com.openai.models.finetuning.alpha.graders.GraderRunParams;
import com.openai.models.finetuning.alpha.graders.GraderRunResponse;
import com.openai.models.finetuning.alpha.graders.GraderValidateParams;
import com.openai.models.finetuning.alpha.graders.GraderValidateResponse;
import com.openai.models.graders.gradermodels.EvalItem;
import com.openai.models.graders.gradermodels.Grader;
import com.openai.models.graders.gradermodels.GraderInputItem;
import com.openai.models.graders.gradermodels.MultiGrader;
import com.openai.models.graders.gradermodels.PythonGrader;
import com.openai.models.graders.gradermodels.ScoreModelGrader;
import com.openai.models.graders.gradermodels.StringCheckGrader;
import com.openai.models.graders.gradermodels.TextSimilarityGrader;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every documented JSON example parses into the class the spec gives it and writes back the same JSON. */
class FixtureRoundTripTest {
    private static final Map<String, Class<?>> CLASS_OF_KIND = Map.of(
        "run_request", GraderRunParams.class,
        "validate_request", GraderValidateParams.class,
        "run_response", GraderRunResponse.class,
        "validate_response", GraderValidateResponse.class);

    static Stream<Arguments> fixtures() {
        return Fixtures.index().stream().map(e -> Arguments.of(e.get("file").asText(), e.get("kind").asText()));
    }

    static Stream<Arguments> errorFixtures() {
        return Fixtures.errors().stream().map(e -> Arguments.of(e.get("file").asText()));
    }

    @Test
    void theIndexListsEveryKindOfFixture() {
        assertEquals(CLASS_OF_KIND.keySet(), fixtures().map(a -> (String) a.get()[1]).collect(Collectors.toSet()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void everyFixtureParsesIntoItsClassAndWritesBackTheSameJson(String file, String kind) throws IOException {
        String text = Files.readString(Fixtures.dir().resolve(file));
        Class<?> type = CLASS_OF_KIND.get(kind);
        Object parsed = ObjectMappers.fromJson(text, type);
        assertInstanceOf(type, parsed);
        Json.assertJsonEquals(Json.parse(text), ObjectMappers.toJson(parsed), file + " written back");
        JsonNode json = Json.parse(text);
        switch (kind) {
            case "run_request" -> {
                GraderRunParams params = (GraderRunParams) parsed;
                assertEquals(json.get("model_sample").asText(), params.modelSample());
                assertEquals(json.has("item"), params.item().isPresent(), "item present");
                assertTrue(params.additionalProperties().isEmpty(), "no unlisted properties");
                assertKnownGrader(json.get("grader"), params.grader());
            }
            case "validate_request" -> {
                GraderValidateParams params = (GraderValidateParams) parsed;
                assertTrue(params.additionalProperties().isEmpty(), "no unlisted properties");
                assertKnownGrader(json.get("grader"), params.grader());
            }
            case "validate_response" -> {
                GraderValidateResponse response = (GraderValidateResponse) parsed;
                assertKnownGrader(json.get("grader"), response.grader().orElseThrow());
            }
            case "run_response" -> assertRunResponse(json, (GraderRunResponse) parsed);
            default -> throw new AssertionError("no class for fixture kind " + kind);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errorFixtures")
    void everyErrorEnvelopeParsesAndWritesBackTheSameJson(String file) throws IOException {
        String text = Files.readString(Fixtures.dir().resolve(file));
        ErrorResponse parsed = ObjectMappers.fromJson(text, ErrorResponse.class);
        JsonNode error = Json.parse(text).get("error");
        assertEquals(error.get("message").asText(), parsed.error().message());
        assertEquals(error.get("code").isNull(), parsed.error().code().isEmpty(), "code null");
        assertEquals(error.get("param").isNull(), parsed.error()._param().isNull(), "param null");
        Json.assertJsonEquals(Json.parse(text), ObjectMappers.toJson(parsed), file + " written back");
    }

    /** The grader parsed into the class its type tag names, with every property listed. */
    private static void assertKnownGrader(JsonNode json, Grader grader) {
        assertFalse(grader.isUnknown(), "grader recognised: " + json);
        Class<?> expected = switch (json.get("type").asText()) {
            case "string_check" -> StringCheckGrader.class;
            case "text_similarity" -> TextSimilarityGrader.class;
            case "python" -> PythonGrader.class;
            case "score_model" -> ScoreModelGrader.class;
            case "multi" -> MultiGrader.class;
            default -> throw new AssertionError("fixture with grader type " + json.get("type"));
        };
        Object held = grader.accept(new Grader.Visitor<Object>() {
            @Override
            public Object visitStringCheck(StringCheckGrader g) {
                assertTrue(g.additionalProperties().isEmpty());
                assertTrue(g.operation().isKnown());
                return g;
            }

            @Override
            public Object visitTextSimilarity(TextSimilarityGrader g) {
                return g;
            }

            @Override
            public Object visitPython(PythonGrader g) {
                return g;
            }

            @Override
            public Object visitScoreModel(ScoreModelGrader g) {
                assertTrue(g.additionalProperties().isEmpty());
                g.input().forEach(FixtureRoundTripTest::assertKnownMessage);
                return g;
            }

            @Override
            public Object visitMulti(MultiGrader g) {
                return g;
            }
        });
        assertInstanceOf(expected, held);
    }

    private static void assertKnownMessage(EvalItem message) {
        assertTrue(message.additionalProperties().isEmpty(), "message properties all listed");
        assertTrue(message.role().isKnown());
        EvalItem.Content content = message.content();
        assertFalse(content.isUnknown(), "content recognised: " + content);
        for (GraderInputItem part : content.graderInputs().orElse(List.of())) {
            assertFalse(part.isUnknown(), "content part recognised: " + part);
        }
    }

    private static void assertRunResponse(JsonNode json, GraderRunResponse response) {
        assertTrue(response.additionalProperties().isEmpty(), "response properties all listed");
        GraderRunResponse.Metadata metadata = response.metadata();
        assertTrue(metadata.additionalProperties().isEmpty(), "metadata properties all listed");
        assertTrue(metadata.errors().additionalProperties().isEmpty(), "error flags all listed");
        assertEquals(json.get("reward").asDouble(), response.reward());
        assertEquals(json.at("/metadata/execution_time").asDouble(), metadata.executionTime());
        JsonNode usage = json.at("/metadata/token_usage");
        GraderRunResponse.Metadata.TokenUsage tokenUsage = metadata.tokenUsage().orElseThrow();
        if (usage.isObject()) {
            assertEquals(usage.get("total_tokens").asLong(), tokenUsage.asModelTokenUsage().totalTokens());
        } else {
            assertEquals(usage.asLong(), tokenUsage.asInteger());
        }
        JsonNode details = json.at("/metadata/errors/python_grader_runtime_error_details");
        assertEquals(details.isNull(), metadata.errors().pythonGraderRuntimeErrorDetails().isEmpty());
    }
}
