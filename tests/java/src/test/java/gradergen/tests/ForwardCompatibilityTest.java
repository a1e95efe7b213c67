package gradergen.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonField;
import com.openai.core.ObjectMappers;
import com.openai.errors.OpenAIInvalidDataException;
import com.openai.models.finetuning.alpha.graders.GraderRunParams;
import com.openai.models.finetuning.alpha.graders.GraderRunResponse;
import com.openai.models.finetuning.alpha.graders.GraderValidateParams;
import com.openai.models.finetuning.alpha.graders.GraderValidateResponse;
import com.openai.models.graders.gradermodels.EvalItem;
import com.openai.models.graders.gradermodels.Grader;
import com.openai.models.graders.gradermodels.GraderInputItem;
import com.openai.models.graders.gradermodels.InputImage;
import com.openai.models.graders.gradermodels.LabelModelGrader;
import com.openai.models.graders.gradermodels.MultiGrader;
import com.openai.models.graders.gradermodels.OutputText;
import com.openai.models.graders.gradermodels.PythonGrader;
import com.openai.models.graders.gradermodels.ReasoningEffort;
import com.openai.models.graders.gradermodels.SamplingParams;
import com.openai.models.graders.gradermodels.ScoreModelGrader;
import com.openai.models.graders.gradermodels.StringCheckGrader;
import com.openai.models.graders.gradermodels.SubGrader;
import com.openai.models.graders.gradermodels.TextSimilarityGrader;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a newer API may send (new grader types, enum values, properties) and the null/absent distinction. */
class ForwardCompatibilityTest {
    private static <T> T roundTrip(String json, Class<T> type) {
        T parsed = ObjectMappers.fromJson(json, type);
        Json.assertJsonEquals(Json.parse(json), ObjectMappers.toJson(parsed), type.getSimpleName() + " written back");
        return parsed;
    }

    private static String runResponse(String tokenUsage) {
        ObjectNode response = (ObjectNode) Fixtures.load("responses/run/002_score_model_live.json");
        ObjectNode metadata = (ObjectNode) response.get("metadata");
        if (tokenUsage == null) {
            metadata.remove("token_usage");
        } else {
            metadata.set("token_usage", Json.parse(tokenUsage));
        }
        return response.toString();
    }

    @Test
    void anUnknownGraderTypeIsKeptAsJson() {
        String json = "{\"grader\": {\"type\": \"semantic_match\", \"name\": \"new\", \"threshold\": [0.5, 1]}}";
        GraderValidateResponse response = roundTrip(json, GraderValidateResponse.class);
        Grader grader = response.grader().orElseThrow();
        assertTrue(grader.isUnknown());
        assertFalse(grader.isStringCheck());
        assertEquals("semantic_match", grader.unknown().orElseThrow().get("type").asText());
        assertThrows(IllegalStateException.class, grader::asStringCheck);
        assertEquals("unknown", grader.accept(new Grader.Visitor<String>() {
            @Override
            public String visitStringCheck(StringCheckGrader g) {
                return "string_check";
            }

            @Override
            public String visitTextSimilarity(TextSimilarityGrader g) {
                return "text_similarity";
            }

            @Override
            public String visitPython(PythonGrader g) {
                return "python";
            }

            @Override
            public String visitScoreModel(ScoreModelGrader g) {
                return "score_model";
            }

            @Override
            public String visitMulti(MultiGrader g) {
                return "multi";
            }

            @Override
            public String visitUnknown(JsonNode json) {
                return "unknown";
            }
        }));
    }

    @Test
    void anUnknownSubGraderInsideAMultiGraderIsKept() {
        String json = "{\"grader\": {\"type\": \"multi\", \"name\": \"m\", \"calculate_output\": \"a + b\","
            + " \"graders\": {\"a\": {\"type\": \"string_check\", \"name\": \"a\", \"input\": \"x\","
            + " \"reference\": \"y\", \"operation\": \"ilike\"}, \"b\": {\"type\": \"vision_check\", \"k\": 1}}}}";
        MultiGrader multi = roundTrip(json, GraderValidateResponse.class).grader().orElseThrow().asMulti();
        SubGrader a = multi.graders().get("a");
        assertSame(StringCheckGrader.Operation.ILIKE, a.asStringCheck().operation());
        assertTrue(multi.graders().get("b").isUnknown());
        assertEquals(List.of("a", "b"), List.copyOf(multi.graders().keySet()));
    }

    @Test
    void unknownEnumValuesAreKeptAndKnownOnesAreTheConstants() {
        String json = "{\"grader\": {\"type\": \"string_check\", \"name\": \"n\", \"input\": \"i\","
            + " \"reference\": \"r\", \"operation\": \"regex\"}}";
        StringCheckGrader grader = roundTrip(json, GraderValidateResponse.class).grader().orElseThrow().asStringCheck();
        assertEquals("regex", grader.operation().value());
        assertFalse(grader.operation().isKnown());
        assertTrue(grader.operation().known().isEmpty());
        assertEquals(StringCheckGrader.Operation.of("regex"), grader.operation());
        assertSame(StringCheckGrader.Operation.EQ, StringCheckGrader.Operation.of("eq"));
        assertEquals(StringCheckGrader.Operation.Known.LIKE, StringCheckGrader.Operation.LIKE.known().orElseThrow());
        assertSame(ReasoningEffort.MAX, ReasoningEffort.of("max"));
    }

    @Test
    void anUnknownReasoningEffortIsKept() {
        String json = "{\"reasoning_effort\": \"extreme\", \"seed\": 7}";
        SamplingParams params = roundTrip(json, SamplingParams.class);
        assertEquals("extreme", params.reasoningEffort().orElseThrow().value());
        assertEquals(7L, params.seed().orElseThrow());
    }

    @Test
    void unlistedPropertiesAreKeptAtEveryLevel() {
        ObjectNode response = (ObjectNode) Fixtures.load("responses/run/002_score_model_live.json");
        response.put("trace_id", "tr_1");
        ((ObjectNode) response.get("metadata")).set("cost", Json.parse("{\"usd\": 0.002, \"cached\": null}"));
        ((ObjectNode) response.at("/metadata/errors")).put("sandbox_error", false);
        GraderRunResponse parsed = roundTrip(response.toString(), GraderRunResponse.class);
        assertEquals("tr_1", parsed.additionalProperties().get("trace_id").asText());
        assertTrue(parsed.metadata().additionalProperties().get("cost").get("cached").isNull());
        assertFalse(parsed.metadata().errors().additionalProperties().get("sandbox_error").asBoolean());
        assertThrows(UnsupportedOperationException.class, () -> parsed.additionalProperties().clear());
    }

    @Test
    void unlistedPropertiesNamedLikeBuilderMethodsAreJustProperties() {
        String json = "{\"type\": \"label_model\", \"name\": \"l\", \"model\": \"m\", \"input\": [],"
            + " \"labels\": [\"a\"], \"passing_labels\": [\"a\"],"
            + " \"addLabel\": \"b\", \"build\": 1, \"toBuilder\": null}";
        LabelModelGrader grader = roundTrip(json, LabelModelGrader.class);
        assertEquals(List.of("a"), grader.labels());
        assertEquals(Set.of("addLabel", "build", "toBuilder"), grader.additionalProperties().keySet());
    }

    @Test
    void passThresholdOnAGraderIsKeptAndSent() {
        // real configurations carry pass_threshold, which no schema lists (see the spec's x-decision)
        String json = "{\"grader\": {\"type\": \"text_similarity\", \"name\": \"t\", \"input\": \"a\","
            + " \"reference\": \"b\", \"evaluation_metric\": \"fuzzy_match\", \"pass_threshold\": 0.8}}";
        GraderValidateParams params = roundTrip(json, GraderValidateParams.class);
        assertEquals(0.8, params.grader().asTextSimilarity().additionalProperties().get("pass_threshold").asDouble());
    }

    @Test
    void tokenUsageMayBeAnIntegerAnObjectNullOrAbsent() {
        GraderRunResponse.Metadata integer = roundTrip(runResponse("42"), GraderRunResponse.class).metadata();
        assertEquals(42L, integer.tokenUsage().orElseThrow().asInteger());

        GraderRunResponse.Metadata object = roundTrip(runResponse(
            "{\"prompt_tokens\": 190, \"total_tokens\": 324, \"completion_tokens\": 134, \"cached_tokens\": 0}"),
            GraderRunResponse.class).metadata();
        assertEquals(134L, object.tokenUsage().orElseThrow().asModelTokenUsage().completionTokens());
        assertEquals(0L, object.tokenUsage().orElseThrow().asModelTokenUsage().cachedTokens().orElseThrow());

        GraderRunResponse.Metadata nothing = roundTrip(runResponse("null"), GraderRunResponse.class).metadata();
        assertTrue(nothing.tokenUsage().isEmpty());
        assertTrue(nothing._tokenUsage().isNull());

        GraderRunResponse.Metadata absent = roundTrip(runResponse(null), GraderRunResponse.class).metadata();
        assertTrue(absent.tokenUsage().isEmpty());
        assertTrue(absent._tokenUsage().isMissing());

        GraderRunResponse.Metadata other = roundTrip(runResponse("\"lots\""), GraderRunResponse.class).metadata();
        assertTrue(other.tokenUsage().orElseThrow().isUnknown());
    }

    @Test
    void nullAndAbsentStayDistinct() {
        SamplingParams absent = roundTrip("{}", SamplingParams.class);
        SamplingParams nulls = roundTrip("{\"temperature\": null, \"top_p\": null}", SamplingParams.class);
        SamplingParams values = roundTrip("{\"temperature\": 0.2, \"top_p\": 1}", SamplingParams.class);
        assertTrue(absent._temperature().isMissing());
        assertTrue(nulls._temperature().isNull());
        assertEquals(0.2, values.temperature().orElseThrow());
        assertTrue(nulls.temperature().isEmpty() && absent.temperature().isEmpty());
        assertFalse(absent.equals(nulls));
        assertEquals("{}", absent.toString());
        assertEquals("{\"temperature\":null,\"top_p\":null}", nulls.toString());

        // built in Java: a null argument means JSON null, not calling the setter means absent
        SamplingParams built = SamplingParams.builder().temperature((Double) null).seed(3).build();
        Json.assertJsonEquals(Json.parse("{\"temperature\": null, \"seed\": 3}"), built.toString(), "built");
        assertEquals(absent, built.toBuilder().temperature(JsonField.missing()).seed(JsonField.missing()).build());
    }

    @Test
    void requiredNullablePropertiesAreWrittenAsNull() {
        GraderRunResponse live = roundTrip(
            Fixtures.load("responses/run/002_score_model_live.json").toString(), GraderRunResponse.class);
        GraderRunResponse.Metadata.Errors errors = live.metadata().errors();
        assertTrue(errors.pythonGraderServerErrorType().isEmpty());
        assertTrue(errors.modelGraderServerErrorDetails().isEmpty());
        assertEquals("gpt-4o-2024-08-06", live.metadata().sampledModelName().orElseThrow());
        assertTrue(Json.parse(errors.toString()).get("python_grader_server_error_type").isNull());
    }

    @Test
    void theItemMayBeNullAbsentOrAnyJson() {
        ObjectNode params = (ObjectNode) Fixtures.load("requests/run/000_cli.json");
        assertTrue(roundTrip(params.toString(), GraderRunParams.class).item().isEmpty());
        params.putNull("item");
        assertTrue(roundTrip(params.toString(), GraderRunParams.class).item().orElseThrow().isNull());
        params.set("item", Json.parse("[1, \"two\", {\"three\": 3.0}]"));
        assertEquals(3, roundTrip(params.toString(), GraderRunParams.class).item().orElseThrow().size());
    }

    @Test
    void imageFileIdNullAndDefaultDetailSurvive() {
        String json = "{\"type\": \"input_image\", \"image_url\": \"https://example.com/a.png\", \"file_id\": null}";
        InputImage image = roundTrip(json, InputImage.class);
        assertTrue(image._fileId().isNull());
        assertTrue(image.detail().isEmpty(), "the default is recorded, never filled in");
    }

    @Test
    void unknownContentPartsAreKept() {
        String json = "{\"role\": \"user\", \"content\": [\"text\", {\"type\": \"input_video\", \"url\": \"v\"},"
            + " {\"type\": \"input_text\", \"text\": \"t\"}]}";
        EvalItem message = roundTrip(json, EvalItem.class);
        List<GraderInputItem> parts = message.content().asGraderInputs();
        assertEquals("text", parts.get(0).asTextInput());
        assertTrue(parts.get(1).isUnknown());
        assertEquals("t", parts.get(2).asResponseInputText().text());

        EvalItem single =
            roundTrip("{\"role\": \"critic\", \"content\": {\"type\": \"input_hologram\"}}", EvalItem.class);
        assertTrue(single.content().isUnknown());
        assertEquals("critic", single.role().value());
    }

    @Test
    void aKnownTagWithABrokenBodyIsAnErrorNamingWhere() {
        String json = "{\"grader\": {\"type\": \"string_check\", \"name\": \"n\"}}";
        OpenAIInvalidDataException e =
            assertThrows(OpenAIInvalidDataException.class,
                () -> ObjectMappers.fromJson(json, GraderValidateParams.class));
        assertTrue(e.getMessage().contains("StringCheckGrader: \"input\" is required"), e.getMessage());
        assertTrue(e.getMessage().contains("/grader"), e.getMessage());
    }

    @Test
    void aWrongTagForAConcreteClassIsAnError() {
        OpenAIInvalidDataException e = assertThrows(OpenAIInvalidDataException.class,
            () -> ObjectMappers.fromJson("{\"type\": \"python\", \"text\": \"x\"}", OutputText.class));
        assertTrue(e.getMessage().contains("\"type\" must be \"output_text\""), e.getMessage());
    }

    @Test
    void aResponseWithNewThingsParsesThroughTheClient() {
        MockApi.reset();
        ObjectNode body = (ObjectNode) Json.parse(runResponse("{\"prompt_tokens\": 1, \"completion_tokens\": 2,"
            + " \"total_tokens\": 3, \"reasoning_tokens\": 9}"));
        body.put("grader_version", "2026-01");
        MockApi.enqueue(200, body);
        OpenAIClient client = OpenAIClient.builder().apiKey("k").baseUrl(MockApi.url()).build();
        GraderRunResponse response = client.fineTuning().alpha().graders().run(GraderRunParams.builder()
            .grader(StringCheckGrader.builder().input("a").name("b").operation(StringCheckGrader.Operation.NE)
                .reference("c").build())
            .modelSample("d")
            .build());
        Json.assertJsonEquals(body, response.toString(), "response");
        assertEquals(9, response.metadata().tokenUsage().orElseThrow().asModelTokenUsage()
            .additionalProperties().get("reasoning_tokens").asInt());
    }
}
