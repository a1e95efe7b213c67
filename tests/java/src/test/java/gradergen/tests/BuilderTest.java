package gradergen.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.core.ObjectMappers;
import com.openai.models.finetuning.alpha.graders.GraderRunParams;
import com.openai.models.finetuning.alpha.graders.GraderRunResponse;
import com.openai.models.graders.gradermodels.EvalItem;
import com.openai.models.graders.gradermodels.GraderInputItem;
import com.openai.models.graders.gradermodels.InputImage;
import com.openai.models.graders.gradermodels.LabelModelGrader;
import com.openai.models.graders.gradermodels.MultiGrader;
import com.openai.models.graders.gradermodels.OutputText;
import com.openai.models.graders.gradermodels.PythonGrader;
import com.openai.models.graders.gradermodels.ResponseInputAudio;
import com.openai.models.graders.gradermodels.ResponseInputText;
import com.openai.models.graders.gradermodels.SamplingParams;
import com.openai.models.graders.gradermodels.ScoreModelGrader;
import com.openai.models.graders.gradermodels.StringCheckGrader;
import com.openai.models.graders.gradermodels.TextSimilarityGrader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The builders: the documented shapes, required properties, immutability and equality. */
class BuilderTest {
    private static StringCheckGrader documentedGrader() {
        return StringCheckGrader.builder()
            .input("input")
            .name("name")
            .operation(StringCheckGrader.Operation.EQ)
            .reference("reference")
            .build();
    }

    @Test
    void theDocumentedRunParamsAreTheDocumentedBody() {
        GraderRunParams params = GraderRunParams.builder()
            .grader(documentedGrader())
            .modelSample("model_sample")
            .build();
        Json.assertJsonEquals(Fixtures.load("requests/run/004_java.json"), params.toString(), "params");
        assertEquals("string_check", StringCheckGrader.TYPE);
    }

    @Test
    void theCurlImageRequestCanBeBuilt() {
        GraderRunParams params = GraderRunParams.builder()
            .grader(ScoreModelGrader.builder()
                .name("Image caption grader")
                .addInput(EvalItem.builder()
                    .role(EvalItem.Role.USER)
                    .content(List.of(
                        GraderInputItem.ofResponseInputText(ResponseInputText.builder()
                            .text("Score how well the provided caption matches the image on a 0-1 scale. Only "
                                + "return the score.\n\nCaption: {{sample.output_text}}")
                            .build()),
                        GraderInputItem.ofInputImage(InputImage.builder()
                            .imageUrl("https://example.com/dog-catching-ball.png")
                            .fileId((String) null)
                            .detail("high")
                            .build())))
                    .build())
                .model("gpt-5-mini")
                .samplingParams(SamplingParams.builder().temperature(0.2).build())
                .build())
            .item(ObjectMappers.jsonMapper().createObjectNode()
                .put("expected_caption", "A golden retriever jumps to catch a tennis ball"))
            .modelSample("A dog leaps to grab a tennis ball mid-air")
            .build();
        Json.assertJsonEquals(Fixtures.load("requests/run/002_curl_score_model_image.json"), params.toString(), "body");
    }

    @Test
    void theCurlAudioRequestCanBeBuilt() {
        GraderRunParams params = GraderRunParams.builder()
            .grader(ScoreModelGrader.builder()
                .name("Audio clarity grader")
                .addInput(EvalItem.builder()
                    .role(EvalItem.Role.USER)
                    .content(List.of(
                        GraderInputItem.ofResponseInputText(ResponseInputText.builder()
                            .text("Listen to the clip and return a confidence score from 0 to 1 that the speaker "
                                + "said: {{item.target_phrase}}")
                            .build()),
                        GraderInputItem.ofResponseInputAudio(ResponseInputAudio.builder()
                            .inputAudio(ResponseInputAudio.InputAudio.builder()
                                .data("{{item.audio_clip_b64}}")
                                .format(ResponseInputAudio.InputAudio.Format.MP3)
                                .build())
                            .build())))
                    .build())
                .model("gpt-audio")
                .samplingParams(SamplingParams.builder().temperature(0.2).topP(1).seed(123).build())
                .build())
            .item(ObjectMappers.jsonMapper().createObjectNode()
                .put("target_phrase", "Please deliver the package on Tuesday")
                .put("audio_clip_b64", "<base64-encoded mp3>"))
            .modelSample("Please deliver the package on Tuesday")
            .build();
        Json.assertJsonEquals(Fixtures.load("requests/run/002_curl_score_model_audio.json"), params.toString(), "body");
    }

    @Test
    void aMultiGraderTakesItsSubGradersByKey() {
        MultiGrader multi = MultiGrader.builder()
            .name("name and email")
            .calculateOutput("(name + email) / 2")
            .putGrader("name", StringCheckGrader.builder()
                .input("{{ sample.output_json.name }}")
                .name("name")
                .operation(StringCheckGrader.Operation.ILIKE)
                .reference("{{ item.name }}")
                .build())
            .putGrader("email", LabelModelGrader.builder()
                .name("email")
                .model("gpt-4o")
                .addInput(EvalItem.builder().role(EvalItem.Role.SYSTEM).content("Is this an email?").build())
                .addLabel("yes")
                .addLabel("no")
                .addPassingLabel("yes")
                .build())
            .build();
        Json.assertJsonEquals(Json.parse("{\"type\": \"multi\", \"name\": \"name and email\","
            + " \"calculate_output\": \"(name + email) / 2\", \"graders\": {"
            + "\"name\": {\"type\": \"string_check\", \"input\": \"{{ sample.output_json.name }}\", \"name\": \"name\","
            + " \"operation\": \"ilike\", \"reference\": \"{{ item.name }}\"},"
            + "\"email\": {\"type\": \"label_model\", \"name\": \"email\", \"model\": \"gpt-4o\","
            + " \"input\": [{\"role\": \"system\", \"content\": \"Is this an email?\"}],"
            + " \"labels\": [\"yes\", \"no\"], \"passing_labels\": [\"yes\"]}}}"), multi.toString(), "multi grader");
        assertEquals(List.of("name", "email"), List.copyOf(multi.graders().keySet()));
    }

    @Test
    void everyGraderVariantGoesStraightIntoTheParams() {
        List<GraderRunParams> all = List.of(
            GraderRunParams.builder().modelSample("s").grader(documentedGrader()).build(),
            GraderRunParams.builder().modelSample("s").grader(TextSimilarityGrader.builder().name("t").input("a")
                .reference("b").evaluationMetric(TextSimilarityGrader.EvaluationMetric.ROUGE_L).build()).build(),
            GraderRunParams.builder().modelSample("s").grader(PythonGrader.builder().name("p")
                .source("def grade(sample, item):\n    return 1.0\n").imageTag("2025-05-08").build()).build(),
            GraderRunParams.builder().modelSample("s").grader(ScoreModelGrader.builder().name("m").model("o4-mini")
                .addInput(EvalItem.builder().role(EvalItem.Role.USER).content("rate it").build())
                .addRange(1).addRange(7).build()).build());
        List<String> types = all.stream().map(p -> Json.parse(p.toString()).at("/grader/type").asText()).toList();
        assertEquals(List.of("string_check", "text_similarity", "python", "score_model"), types);
        assertEquals(List.of(1.0, 7.0), all.get(3).grader().asScoreModel().range().orElseThrow());
    }

    @Test
    void aMissingRequiredPropertyIsNamed() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> StringCheckGrader.builder().input("i").name("n").reference("r").build());
        assertEquals("StringCheckGrader: \"operation\" is required but was not set", e.getMessage());
        IllegalStateException nested = assertThrows(IllegalStateException.class,
            () -> GraderRunResponse.Metadata.builder().build());
        assertTrue(nested.getMessage().startsWith("GraderRunResponse.Metadata: "), nested.getMessage());
    }

    @Test
    void nullIsRefusedWhereTheSpecDoesNotAllowIt() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> StringCheckGrader.builder().name(null));
        assertEquals("StringCheckGrader: \"name\" may not be null", e.getMessage());
    }

    @Test
    void listedPropertiesCannotBeSmuggledInAsAdditionalOnes() {
        assertThrows(IllegalArgumentException.class,
            () -> StringCheckGrader.builder().putAdditionalProperty("type", Json.parse("\"python\"")));
    }

    @Test
    void modelsAreImmutable() {
        List<String> labels = new ArrayList<>(List.of("a", "b"));
        LabelModelGrader grader = LabelModelGrader.builder().name("l").model("m").input(List.of())
            .labels(labels).passingLabels(List.of("a")).build();
        labels.add("c");
        assertEquals(List.of("a", "b"), grader.labels());
        assertThrows(UnsupportedOperationException.class, () -> grader.labels().add("d"));
        LabelModelGrader more = grader.toBuilder().addLabel("c").build();
        assertEquals(List.of("a", "b", "c"), more.labels());
        assertEquals(List.of("a", "b"), grader.labels());
    }

    @Test
    void equalityIsByValue() {
        assertEquals(documentedGrader(), documentedGrader());
        assertEquals(documentedGrader().hashCode(), documentedGrader().hashCode());
        assertEquals(documentedGrader(), documentedGrader().toBuilder().build());
        assertNotEquals(documentedGrader(), documentedGrader().toBuilder().name("other").build());
        assertNotEquals(documentedGrader(),
            documentedGrader().toBuilder().putAdditionalProperty("extra", Json.parse("1")).build());
    }

    @Test
    void contentTakesAStringAPartOrAList() {
        EvalItem text = EvalItem.builder().role(EvalItem.Role.USER).content("hello").build();
        EvalItem part = EvalItem.builder().role(EvalItem.Role.USER)
            .content(ResponseInputText.builder().text("hello").build()).build();
        assertEquals("hello", text.content().asTextInput());
        assertEquals("{\"content\":{\"text\":\"hello\",\"type\":\"input_text\"},\"role\":\"user\"}", part.toString());
        assertThrows(IllegalStateException.class, () -> part.content().asTextInput());
        assertEquals("part", part.content().accept(new EvalItem.Content.Visitor<String>() {
            @Override
            public String visitTextInput(String textInput) {
                return "text";
            }

            @Override
            public String visitResponseInputText(ResponseInputText responseInputText) {
                return "part";
            }

            @Override
            public String visitOutputText(OutputText outputText) {
                return "output";
            }

            @Override
            public String visitInputImage(InputImage inputImage) {
                return "image";
            }

            @Override
            public String visitResponseInputAudio(ResponseInputAudio responseInputAudio) {
                return "audio";
            }

            @Override
            public String visitGraderInputs(List<GraderInputItem> graderInputs) {
                return "list";
            }
        }));
    }
}
