package gradergen.tests;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** The fault server (tests/fault_server.py): a base URL per scenario, and how many requests each got. */
final class FaultApi {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private FaultApi() {}

    /** http://127.0.0.1:PORT, from FAULT_URL (set by tests/test_java.py). */
    static String url() {
        String url = System.getenv("FAULT_URL");
        if (url == null || url.isBlank()) {
            throw new IllegalStateException("FAULT_URL is not set: run this suite through tests/test_java.py");
        }
        return url;
    }

    /** How many API requests came for a base path such as {@code /reset-mid-body/tag}. */
    static int hits(String base) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url() + "/__fault/hits")).build();
        try {
            JsonNode hits = Json.parse(HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body());
            return hits.path(base).asInt(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
