package gradergen.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

/** The shared mock server (tests/mock_server.py), driven through its control API. */
final class MockApi {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private MockApi() {}

    /** The API base URL, http://127.0.0.1:PORT/v1, from MOCK_URL (set by tests/test_java.py). */
    static String url() {
        String url = System.getenv("MOCK_URL");
        if (url == null || url.isBlank()) {
            throw new IllegalStateException("MOCK_URL is not set: run this suite through tests/test_java.py");
        }
        return url;
    }

    static void reset() {
        control("POST", "/__mock/reset", "{}");
    }

    static void enqueue(int status) {
        enqueue(status, null, Map.of(), 0);
    }

    static void enqueue(int status, JsonNode body) {
        enqueue(status, body, Map.of(), 0);
    }

    /** Queues the answer to the next API request: a status, a JSON body (null: the default), headers. */
    static void enqueue(int status, JsonNode body, Map<String, String> headers, double delaySeconds) {
        ObjectNode item = Json.PLAIN.createObjectNode().put("status", status).put("delay", delaySeconds);
        if (body != null) {
            item.set("body", body);
        }
        item.set("headers", Json.PLAIN.valueToTree(headers));
        control("POST", "/__mock/enqueue", item.toString());
    }

    /** Queues a body that is sent as it is (not as JSON), e.g. an HTML error page. */
    static void enqueueText(int status, String text) {
        ObjectNode item = Json.PLAIN.createObjectNode().put("status", status).put("body", text);
        control("POST", "/__mock/enqueue", item.toString());
    }

    /** The next API request is read, then its connection closed without an answer. */
    static void enqueueDisconnect() {
        control("POST", "/__mock/enqueue", "{\"disconnect\": true}");
    }

    /** The API requests received since the last reset: method, path, headers, body, json. */
    static JsonNode requests() {
        return Json.parse(control("GET", "/__mock/requests", null));
    }

    private static String control(String method, String path, String body) {
        URI uri = URI.create(url().replaceAll("/v1/?$", "") + path);
        HttpRequest.BodyPublisher publisher =
            body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
        HttpRequest request = HttpRequest.newBuilder(uri)
            .method(method, publisher)
            .header("Content-Type", "application/json")
            .build();
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), () -> method + " " + path + ": " + response.body());
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
