package gradergen.sdks;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.models.finetuning.alpha.graders.GraderRunParams;
import com.openai.models.finetuning.alpha.graders.GraderRunResponse;
import com.openai.models.finetuning.alpha.graders.GraderValidateParams;
import com.openai.models.finetuning.alpha.graders.GraderValidateResponse;
import com.openai.models.graders.gradermodels.MultiGrader;
import com.openai.models.graders.gradermodels.ScoreModelGrader;
import com.openai.models.graders.gradermodels.StringCheckGrader;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Calls the graders server with the official Java SDK and prints, one JSON object per line, what the SDK
 * made of each answer. tests/test_official_sdks.py runs it and judges the lines; nothing here decides what
 * is right. Environment: GRADERS_BASE_URL (the server's base URL, ending in /v1) and OPENAI_API_KEY.
 */
public final class Checks {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checks() {}

    public static void main(String[] args) throws JsonProcessingException {
        String baseUrl = System.getenv("GRADERS_BASE_URL");
        if (baseUrl == null || baseUrl.isEmpty()) {
            System.err.println("checks: set GRADERS_BASE_URL to the server's base URL (.../v1)");
            System.exit(2);
        }
        OpenAIClient client = OpenAIOkHttpClient.builder().fromEnv().baseUrl(baseUrl).maxRetries(0).build();
        try {
            check("run_string_check", () -> runStringCheck(client));
            check("validate_multi_map", () -> validateMultiMap(client));
            check("run_multi_map", () -> runMultiMap(client));
            check("run_score_model", () -> runScoreModel(client));
        } finally {
            client.close();
        }
    }

    /** Prints the check's values, or the exception that ended it. */
    private static void check(String name, Callable<Map<String, Object>> body) throws JsonProcessingException {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("check", name);
        try {
            report.put("values", body.call());
        } catch (Exception error) {
            report.put("error", describe(error));
        }
        System.out.println(JSON.writeValueAsString(report));
    }

    private static String describe(Throwable error) {
        return error.getClass().getName() + ": " + error.getMessage();
    }

    /** What a call on a parsed value gives: its value, or the exception it throws. */
    private static Object attempt(Callable<Object> getter) {
        try {
            Object value = getter.call();
            return value instanceof JsonValue ? ((JsonValue) value).convert(Object.class) : value;
        } catch (Exception error) {
            return Map.of("threw", describe(error));
        }
    }

    private static StringCheckGrader exact() {
        return StringCheckGrader.builder()
            .input("{{sample.output_text}}")
            .name("exact label")
            .operation(StringCheckGrader.Operation.EQ)
            .reference("{{item.label}}")
            .build();
    }

    private static JsonValue labelItem() {
        return JsonValue.from(Map.of("label", "Paris"));
    }

    private static Map<String, Object> runStringCheck(OpenAIClient client) {
        GraderRunResponse response = client.fineTuning().alpha().graders().run(GraderRunParams.builder()
            .grader(exact())
            .modelSample("Paris")
            .item(labelItem())
            .build());
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("reward", attempt(response::reward));
        values.put("token_usage", attempt(() -> response.metadata().tokenUsage().orElse(null)));
        values.put("sampled_model_name", attempt(() -> response.metadata().sampledModelName().orElse(null)));
        values.put("validate", attempt(() -> response.validate().isValid()));
        return values;
    }

    /**
     * A multi grader whose graders are a map, as the service takes them. The SDK types MultiGrader.graders
     * as one grader, so the map goes in as a raw JsonValue.
     */
    @SuppressWarnings("unchecked") // a JsonValue is a JsonField of no type: the map's only way in
    private static MultiGrader multi() {
        Map<String, Object> graders = new LinkedHashMap<>();
        graders.put("exact", Map.of(
            "type", "string_check", "name", "exact label", "input", "{{sample.output_text}}",
            "operation", "eq", "reference", "{{item.label}}"));
        graders.put("close", Map.of(
            "type", "text_similarity", "name", "close label", "input", "{{sample.output_text}}",
            "evaluation_metric", "fuzzy_match", "reference", "{{item.label}}"));
        return MultiGrader.builder()
            .calculateOutput("0.5 * exact + 0.5 * close")
            .graders(JsonValue.from(graders))
            .name("label")
            .build();
    }

    private static Map<String, Object> validateMultiMap(OpenAIClient client) {
        GraderValidateResponse response = client.fineTuning().alpha().graders().validate(
            GraderValidateParams.builder().grader(multi()).build());
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("is_multi", attempt(() -> response.grader().map(GraderValidateResponse.Grader::isMulti)
            .orElse(null)));
        values.put("variant", attempt(() -> response.grader().map(Checks::variantOf).orElse(null)));
        values.put("graders_is_one_grader", attempt(() -> response.grader().orElseThrow().asMulti().graders()
            .isStringCheckGrader()));
        values.put("validate", attempt(() -> response.validate().isValid()));
        return values;
    }

    private static String variantOf(GraderValidateResponse.Grader grader) {
        if (grader.isStringCheck()) {
            return "string_check";
        }
        if (grader.isTextSimilarity()) {
            return "text_similarity";
        }
        if (grader.isPython()) {
            return "python";
        }
        if (grader.isScoreModel()) {
            return "score_model";
        }
        return grader.isMulti() ? "multi" : "unknown";
    }

    private static Map<String, Object> runMultiMap(OpenAIClient client) {
        GraderRunResponse response = client.fineTuning().alpha().graders().run(GraderRunParams.builder()
            .grader(multi())
            .modelSample("Paris")
            .item(labelItem())
            .build());
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("reward", attempt(response::reward));
        values.put("sub_rewards", attempt(() -> JsonValue.from(response.subRewards()._allProperties())));
        values.put("validate", attempt(() -> response.validate().isValid()));
        return values;
    }

    private static Map<String, Object> runScoreModel(OpenAIClient client) {
        GraderRunResponse response = client.fineTuning().alpha().graders().run(GraderRunParams.builder()
            .grader(ScoreModelGrader.builder()
                .addInput(ScoreModelGrader.Input.builder()
                    .role(ScoreModelGrader.Input.Role.USER)
                    .content("Score how close the answer {{sample.output_text}} is to {{item.label}}.")
                    .build())
                .model("gpt-4o-2024-08-06")
                .name("judge")
                .build())
            .modelSample("Paris")
            .item(labelItem())
            .build());
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("reward", attempt(response::reward));
        values.put("token_usage", attempt(() -> response.metadata().tokenUsage().orElse(null)));
        values.put("token_usage_raw", attempt(() -> response.metadata()._tokenUsage().asUnknown().orElse(null)));
        values.put("sampled_model_name", attempt(() -> response.metadata().sampledModelName().orElse(null)));
        values.put("validate", attempt(() -> response.validate().isValid()));
        return values;
    }
}
