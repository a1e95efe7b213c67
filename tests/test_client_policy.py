"""The client policy (`x-gradergen-client`): declared once in the spec, read into the IR, printed by every
language; no template types a policy value by hand."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gradergen.errors import SpecError
from gradergen.ir.build import build_ir
from gradergen.ir.policy import EXTENSION
from gradergen.languages import languages

from harness import ROOT, SPEC, gradergen

DOC: dict[str, Any] = yaml.safe_load(SPEC.read_text())
LANGUAGES = languages()


def _policy(doc: dict[str, Any]) -> Any:
    return build_ir(copy.deepcopy(doc)).client


def test_the_spec_declares_the_policy() -> None:
    policy = _policy(DOC)
    assert (policy.timeout_ms, policy.max_retries, policy.max_response_bytes) == (600_000, 2, 32 << 20)
    assert (policy.backoff_initial_ms, policy.backoff_max_ms, policy.backoff_jitter) == (500, 8000, 0.25)
    assert policy.max_retry_after_ms == 60_000
    assert (policy.retry_statuses, policy.retry_server_errors) == ([408, 409, 429], True)
    assert (policy.api_key_env, policy.base_url_env) == ("OPENAI_API_KEY", "OPENAI_BASE_URL")
    assert (policy.request_id_header, policy.idempotency_header) == ("x-request-id", "Idempotency-Key")
    assert [(e.status, e.name) for e in policy.all_errors] == [
        (400, "bad_request"),
        (401, "authentication"),
        (403, "permission_denied"),
        (404, "not_found"),
        (409, "conflict"),
        (422, "unprocessable_entity"),
        (429, "rate_limit"),
        (None, "internal_server"),
    ]


def test_a_spec_without_the_block_gets_the_same_documented_defaults() -> None:
    bare = {k: v for k, v in DOC.items() if k != EXTENSION}
    ours, default = _policy(DOC), _policy(bare)
    assert [(e.status, e.name, e.description) for e in default.all_errors] == [
        (e.status, e.name, e.description) for e in ours.all_errors
    ]
    for attr in (
        "timeout_ms",
        "max_retries",
        "backoff_initial_ms",
        "backoff_max_ms",
        "backoff_jitter",
        "max_retry_after_ms",
        "retry_statuses",
        "retry_server_errors",
        "max_response_bytes",
        "api_key_env",
        "base_url_env",
        "request_id_header",
        "idempotency_header",
    ):
        assert getattr(default, attr) == getattr(ours, attr), attr


@pytest.mark.parametrize(
    ("change", "pointer", "words"),
    [
        ({"timeout_seconds": 0}, "/timeout_seconds", "more than 0"),
        ({"timeout_seconds": "600"}, "/timeout_seconds", "not a finite number"),
        ({"timeout_seconds": 0.0001}, "/timeout_seconds", "whole milliseconds"),
        ({"max_retries": -1}, "/max_retries", "whole number from 0"),
        ({"max_retries": True}, "/max_retries", "whole number"),
        ({"backoff": {"initial_seconds": 9, "max_seconds": 8}}, "/backoff/max_seconds", "at least"),
        ({"backoff": {"jitter": 1.5}}, "/backoff/jitter", "fraction"),
        ({"backoff": {"factor": 2}}, "/backoff/factor", "unknown key"),
        ({"retry_statuses": [429, 429]}, "/retry_statuses/1", "twice"),
        ({"retry_statuses": ["4XX"]}, "/retry_statuses/0", "not an error status"),
        ({"max_response_bytes": 0}, "/max_response_bytes", "whole number from 1"),
        ({"environment": {"api_key": 'KEY"; rm -rf /'}}, "/environment/api_key", "environment variable"),
        ({"headers": {"request_id": "x-id\r\nInjected: 1"}}, "/headers/request_id", "header name"),
        ({"errors": {"400": {"name": "BadRequest"}}}, "/errors/400/name", "lower-case words"),
        ({"errors": {"400": {"name": "x"}, "401": {"name": "x"}}}, "/errors/401/name", "too"),
        ({"errors": {"200": {"name": "ok"}}}, "/errors/200", "not an error status"),
        ({"retries": 3}, "/retries", "unknown key"),
    ],
)
def test_bad_values_are_refused_at_their_pointer(change: dict[str, Any], pointer: str, words: str) -> None:
    doc = copy.deepcopy(DOC)
    doc[EXTENSION] = {**doc[EXTENSION], **change}
    with pytest.raises(SpecError) as info:
        build_ir(doc)
    assert info.value.pointer == f"/{EXTENSION}{pointer}"
    assert words in info.value.message


def test_an_error_class_may_not_take_a_runtime_class_name(tmp_path: Path) -> None:
    doc = copy.deepcopy(DOC)
    doc[EXTENSION]["errors"]["418"] = {"name": "graders", "description": "taken"}
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = gradergen("generate", "--spec", str(spec), "--lang", "python", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert f"#/{EXTENSION}/errors/418/name: python: GradersError is a class of the runtime" in result.stderr


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every language generated from a spec whose policy differs from the default in every value."""
    tmp = tmp_path_factory.mktemp("policy")
    doc = copy.deepcopy(DOC)
    doc[EXTENSION] = {
        "timeout_seconds": 42,
        "max_retries": 5,
        "backoff": {"initial_seconds": 0.125, "max_seconds": 3, "jitter": 0.5},
        "max_retry_after_seconds": 7,
        "retry_statuses": [425, 503],
        "max_response_bytes": 1024 * 1024,
        "environment": {"api_key": "ACME_KEY", "base_url": "ACME_URL"},
        "headers": {"request_id": "x-acme-request", "idempotency_key": "X-Acme-Idempotency"},
        "errors": {"400": {"name": "invalid", "description": "Refused."}, "418": {"name": "teapot"}},
    }
    spec = tmp / "spec.yaml"
    spec.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = gradergen("generate", "--spec", str(spec), "--lang", "all", "--out", str(tmp / "out"), "-q")
    assert result.returncode == 0, result.stderr
    return tmp / "out"


def _text(root: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file())


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "python",
            [
                "DEFAULT_TIMEOUT = 42.0",
                "DEFAULT_MAX_RETRIES = 5",
                "INITIAL_BACKOFF = 0.125",
                "MAX_BACKOFF = 3.0",
                "BACKOFF_JITTER = 0.5",
                "MAX_RETRY_AFTER = 7.0",
                "RETRYABLE_STATUSES = frozenset({425, 503})",
                "DEFAULT_MAX_RESPONSE_BYTES = 1 * 1024 * 1024",
                'API_KEY_ENV = "ACME_KEY"',
                'BASE_URL_ENV = "ACME_URL"',
                "class InvalidError(APIStatusError)",
                "class TeapotError(APIStatusError)",
                "418: TeapotError",
                '"x-acme-request"',
                '"X-Acme-Idempotency"',
            ],
        ),
        (
            "go",
            [
                "DefaultRequestTimeout = 42 * time.Second",
                "DefaultMaxRetries = 5",
                "initialBackoff = 125 * time.Millisecond",
                "maxBackoff = 3 * time.Second",
                "backoffJitter = 0.5",
                "maxRetryAfter = 7 * time.Second",
                "case 425, 503:",
                "DefaultMaxResponseBytes = 1 << 20",
                'os.Getenv("ACME_KEY")',
                'os.Getenv("ACME_URL")',
                '"x-acme-request"',
                '"X-Acme-Idempotency"',
            ],
        ),
        (
            "java",
            [
                "DEFAULT_TIMEOUT = Duration.ofSeconds(42)",
                "DEFAULT_MAX_RETRIES = 5",
                "INITIAL_BACKOFF = Duration.ofMillis(125)",
                "MAX_BACKOFF = Duration.ofSeconds(3)",
                "BACKOFF_JITTER = 0.5",
                "MAX_RETRY_AFTER = Duration.ofSeconds(7)",
                "return status == 425 || status == 503;",
                "DEFAULT_MAX_RESPONSE_BYTES = 1L * 1024 * 1024",
                'System.getenv("ACME_KEY")',
                "class InvalidException",
                "class TeapotException",
                "case 418 -> new TeapotException",
                '"x-acme-request"',
                '"X-Acme-Idempotency"',
            ],
        ),
        (
            "ruby",
            [
                "DEFAULT_TIMEOUT = 42.0",
                "DEFAULT_MAX_RETRIES = 5",
                "INITIAL_BACKOFF = 0.125",
                "MAX_BACKOFF = 3.0",
                "BACKOFF_JITTER = 0.5",
                "MAX_RETRY_AFTER = 7.0",
                "RETRYABLE_STATUSES = [425, 503].freeze",
                "DEFAULT_MAX_RESPONSE_BYTES = 1 * 1024 * 1024",
                'API_KEY_ENV = "ACME_KEY"',
                "class TeapotError < APIStatusError",
                "418 => TeapotError",
                '"x-acme-request"',
                '"X-Acme-Idempotency"',
            ],
        ),
    ],
)
def test_every_language_prints_the_declared_policy(changed: Path, lang: str, expected: list[str]) -> None:
    text = _text(changed / lang)
    missing = [e for e in expected if e not in text]
    assert not missing, f"{lang} does not print {missing}"
    for default in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "x-request-id",
        "Idempotency-Key",
        "NotFound",
        "InternalServer",
        "RateLimit",
    ):
        assert default not in text, f"{lang} still prints {default!r} although the spec changed it"


# Policy values as a template would type them by hand. README templates included: they print the IR too.
HAND_TYPED = re.compile(
    r"OPENAI_API_KEY|OPENAI_BASE_URL|x-request-id|Idempotency-Key|\b40[89]\b|\b429\b|\b0\.25\b|\b600\b"
    r"|32 \* 1024|32 << 20|\b32 MiB\b"
    r"|(BadRequest|Unauthorized|Authentication|RateLimit|InternalServer)(Error|Exception)",
    re.IGNORECASE,
)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_template_types_a_policy_value(lang: str) -> None:
    found = []
    for path in sorted((ROOT / "templates" / lang).rglob("*")):
        # what the generator reads: templates, the modules beside them, the manifest (not a lockfile)
        if path.is_file() and path.suffix in (".j2", ".py", ".yaml"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if HAND_TYPED.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "policy values typed by hand:\n" + "\n".join(found)
