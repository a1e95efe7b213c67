"""`make dist`: what each ecosystem publishes, each installed into a clean consumer project that then works
against the mock API, and one version everywhere.

`make dist` runs once per session (the `dist` fixture), into a temporary directory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from gradergen.languages import beside, languages

from harness import BIN, GENERATED, ROOT, go_validate_program, require_tool, run
from mock_server import MockServer
from release import (
    MAVEN_DEPENDENCY_PLUGIN,
    make_venv,
    one,
    overlay_repository,
    pip_install,
    spec_version,
)

PUBLISHES_NOTHING = {"jsonschema": "the schema is a file in gradergen's wheel (`gradergen schema`)"}
POM = "{http://maven.apache.org/POM/4.0.0}"


def grader(name: str) -> dict[str, str]:
    return {"type": "string_check", "name": name, "input": "a", "operation": "eq", "reference": "b"}


def sent_grader(mock_server: MockServer) -> dict[str, str]:
    (request,) = mock_server.requests
    sent: dict[str, str] = request["json"]["grader"]
    return sent


# --------------------------------------------------------------------------- what there is
NOT_YET_RELEASED: dict[str, str] = {}
"""Languages that have bindings but no release artifact yet: their test below is an expected failure
(shown as xfailed, never as passed), strict, so it fails once the artifact exists and the entry stays."""


def _published_languages() -> list[object]:
    return [
        pytest.param(lang, marks=pytest.mark.xfail(strict=True, reason=NOT_YET_RELEASED[lang]))
        if lang in NOT_YET_RELEASED
        else lang
        for lang in languages()
        if lang not in PUBLISHES_NOTHING
    ]


@pytest.mark.parametrize("lang", _published_languages())
def test_every_language_has_its_artifact_and_a_consumer_check(lang: str) -> None:
    assert (ROOT / "release" / f"{lang}.mk").is_file(), (
        f"{lang} has no release/{lang}.mk: add one defining dist-{lang}, which builds what its "
        f"ecosystem publishes into $(DIST)/{lang} (see README, Releasing)"
    )
    assert lang in CONSUMER_CHECKS, f"add a test installing {lang}'s artifact to tests/test_dist.py"


def test_dist_holds_each_language_and_gradergen(dist: Path) -> None:
    expected = {"gradergen"} | {p.stem for p in (ROOT / "release").glob("*.mk")}
    assert {p.name for p in dist.iterdir()} == expected
    assert all(any(p.is_file() for p in (dist / name).rglob("*")) for name in expected)


def test_one_version_everywhere(dist: Path) -> None:
    version = spec_version()
    found = {"gradergen --version": run([str(BIN / "gradergen"), "--version"]).strip()}
    for name in ("gradergen", "python"):
        for wheel in (dist / name).glob("*.whl"):
            (metadata,) = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/METADATA")]
            found[wheel.name] = _field(zipfile.ZipFile(wheel).read(metadata).decode(), "Version")
        for sdist in (dist / name).glob("*.tar.gz"):
            with tarfile.open(sdist) as tar:
                (info,) = [
                    m for m in tar.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
                ]
                extracted = tar.extractfile(info)
                assert extracted is not None
                found[sdist.name] = _field(extracted.read().decode(), "Version")
    gem = one(dist / "ruby", "*.gem")
    found[gem.name] = run([require_tool("gem"), "spec", str(gem), "version"]).split("version:")[1].strip()
    pom = one(dist / "java", "**/*.pom")
    found[pom.name] = ET.parse(pom).getroot().findtext(f"{POM}version") or ""
    go_list = one(dist / "go", "**/@v/list")
    found["go @v/list"] = go_list.read_text().strip().removeprefix("v")
    packed = one(dist / "typescript", "*.tgz")
    with tarfile.open(packed) as tar:
        package = tar.extractfile("package/package.json")
        assert package is not None
        found[packed.name] = json.load(package)["version"]
    assert found == {
        key: ("gradergen " + version if key.startswith("gradergen --") else version) for key in found
    }
    assert len(found) == 9


def test_the_docs_name_the_same_version() -> None:
    """The pre-commit `rev:` and the README's wheel name are the version a release tags."""
    version = spec_version()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    named = re.findall(r"rev: v(\S+)", readme + hooks) + re.findall(r"gradergen-([0-9][^-\s]*)-py3", readme)
    assert len(named) >= 3 and set(named) == {version}, named


def _field(metadata: str, name: str) -> str:
    match = re.search(rf"^{name}: (.+)$", metadata, re.M)
    assert match, metadata[:500]
    return match.group(1).strip()


# --------------------------------------------------------------------------- Python
PYTHON_CONSUMER = """
import sys

from openai_graders import Client, StringCheckGrader


def main() -> None:
    client = Client(api_key="sk-consumer", base_url=sys.argv[1], max_retries=0)
    grader = StringCheckGrader(
        type="string_check", name="consumer-python", input="a", operation="eq", reference="b"
    )
    checked = client.fine_tuning.alpha.graders.validate(grader=grader)
    print(checked.model_dump(mode="json", by_alias=True, exclude_unset=True)["grader"]["name"])


main()
"""


def check_python(dist: Path, tmp_path: Path, mock_server: MockServer) -> None:
    wheel = one(dist / "python", "openai_graders-*.whl")
    consumer = make_venv(tmp_path / "venv")
    pip_install(consumer, str(wheel))
    app = tmp_path / "app.py"
    app.write_text(PYTHON_CONSUMER, encoding="utf-8")
    assert run([str(consumer / "python"), str(app), mock_server.url], cwd=tmp_path) == "consumer-python\n"
    assert sent_grader(mock_server) == grader("consumer-python")
    # the installed package is typed (py.typed shipped): the consumer's code type-checks against it
    run(
        [str(BIN / "mypy"), "--strict", "--python-executable", str(consumer / "python"), str(app)],
        cwd=tmp_path,
    )
    # the sdist is complete: it builds the released wheel again, file for file
    rebuilt = tmp_path / "rebuilt"
    sdist = one(dist / "python", "openai_graders-*.tar.gz")
    run(
        [str(BIN / "pip"), "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(rebuilt), str(sdist)]
    )
    assert _wheel_files(one(rebuilt, "*.whl")) == _wheel_files(wheel)


def _wheel_files(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {n: archive.read(n) for n in archive.namelist() if not n.endswith("/RECORD")}


def test_gradergen_wheel_installs_and_generates(
    dist: Path, installed_gradergen: Path, tmp_path: Path
) -> None:
    gradergen = str(installed_gradergen / "gradergen")
    assert run([gradergen, "--version"]) == f"gradergen {spec_version()}\n"
    run([gradergen, "generate", "--lang", "ruby", "--out", "out", "-q"], cwd=tmp_path)
    run([gradergen, "generate", "--lang", "ruby", "--out", "out", "--check", "-q"], cwd=tmp_path)
    produced = {str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert produced == {
        str(p.relative_to(GENERATED / "ruby")) for p in (GENERATED / "ruby").rglob("*") if p.is_file()
    }
    names = zipfile.ZipFile(one(dist / "gradergen", "*.whl")).namelist()
    assert "gradergen/_data/spec/graders.openapi.yaml" in names


# --------------------------------------------------------------------------- Go


def go_env(tmp_path: Path, proxy: str) -> dict[str, str]:
    return {
        "GOPROXY": proxy,
        "GOSUMDB": "off",  # our module is not in the public checksum database: go.sum records the zip's hash
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "GOWORK": "off",
        "GOMODCACHE": str(tmp_path / "modcache"),  # what comes from dist/go never enters the shared cache
        "CGO_ENABLED": "0",
    }


def check_go(dist: Path, tmp_path: Path, mock_server: MockServer) -> None:
    go = require_tool("go")
    module = "github.com/gradergen/openai-graders-go"
    version = "v" + spec_version()
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "main.go").write_text(
        go_validate_program("github.com/gradergen/openai-graders-go", "consumer-go", "sk-consumer"),
        encoding="utf-8",
    )
    (consumer / "go.mod").write_text(
        f"module example.com/consumer\n\ngo 1.24\n\nrequire {module} {version}\n"
    )
    env = go_env(tmp_path, f"file://{dist / 'go'}")
    try:
        # through the proxy directory: go downloads, hashes and extracts the zip, then verifies it
        run([go, "mod", "tidy"], cwd=consumer, env=env)
        assert f"{module} {version} h1:" in (consumer / "go.sum").read_text()
        assert run([go, "mod", "verify"], cwd=consumer, env=env).strip() == "all modules verified"
        run([go, "vet", "./..."], cwd=consumer, env=env)
        run([go, "build", "-o", str(tmp_path / "app"), "."], cwd=consumer, env=env)
        assert run([str(tmp_path / "app"), mock_server.url]) == "consumer-go\n"
        assert sent_grader(mock_server) == grader("consumer-go")
        # through a replace directive pointing at the zip's contents, the network off
        unzipped = tmp_path / "unzipped"
        zipfile.ZipFile(one(dist / "go", f"**/@v/{version}.zip")).extractall(unzipped)
        (consumer / "go.sum").unlink()
        with (consumer / "go.mod").open("a") as mod:
            mod.write(f"\nreplace {module} => {unzipped / f'{module}@{version}'}\n")
        run(
            [go, "build", "-o", str(tmp_path / "app-replaced"), "."],
            cwd=consumer,
            env=go_env(tmp_path, "off"),
        )
        mock_server.reset()
        assert run([str(tmp_path / "app-replaced"), mock_server.url]) == "consumer-go\n"
    finally:
        subprocess.run(
            [go, "clean", "-modcache"], env={**os.environ, **env}, capture_output=True, timeout=120
        )


# --------------------------------------------------------------------------- Java
JAVA_CONSUMER = """package example;

import com.openai.graders.client.OpenAIClient;
import com.openai.graders.models.finetuning.alpha.graders.GraderValidateParams;
import com.openai.graders.models.finetuning.alpha.graders.GraderValidateResponse;
import com.openai.graders.models.graders.gradermodels.StringCheckGrader;

public final class Main {
    private Main() {}

    public static void main(String[] args) {
        OpenAIClient client =
            OpenAIClient.builder().apiKey("sk-consumer").baseUrl(args[0]).maxRetries(0).build();
        GraderValidateResponse response = client.fineTuning().alpha().graders().validate(
            GraderValidateParams.builder()
                .grader(StringCheckGrader.builder()
                    .input("a").name("consumer-java").operation(StringCheckGrader.Operation.EQ).reference("b")
                    .build())
                .build());
        System.out.println(response.grader().isPresent() ? "validated" : "no grader");
    }
}
"""


def consumer_pom(repository: Path, coordinates: dict[str, str]) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>consumer</artifactId>
  <version>1</version>
  <properties>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <maven.compiler.release>17</maven.compiler.release>
  </properties>
  <repositories>
    <repository>
      <id>dist</id>
      <url>{repository.as_uri()}</url>
    </repository>
  </repositories>
  <dependencies>
    <dependency>
      <groupId>{coordinates["groupId"]}</groupId>
      <artifactId>{coordinates["artifactId"]}</artifactId>
      <version>{coordinates["version"]}</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <artifactId>maven-compiler-plugin</artifactId>
        <version>3.13.0</version>
        <configuration>
          <compilerArgs><arg>-Xlint:all</arg><arg>-Werror</arg></compilerArgs>
        </configuration>
      </plugin>
      <plugin>
        <artifactId>maven-resources-plugin</artifactId>
        <version>3.3.1</version>
      </plugin>
    </plugins>
  </build>
</project>
"""


def check_java(dist: Path, tmp_path: Path, mock_server: MockServer) -> None:
    mvn, java = require_tool("mvn"), require_tool("java")
    pom = one(dist / "java", "**/*.pom")
    project = ET.parse(pom).getroot()
    coordinates = {k: project.findtext(f"{POM}{k}") or "" for k in ("groupId", "artifactId", "version")}
    stem = f"{coordinates['artifactId']}-{coordinates['version']}"
    folder = pom.parent
    classes = {n for n in zipfile.ZipFile(folder / f"{stem}.jar").namelist() if n.endswith(".class")}
    sources = set(zipfile.ZipFile(folder / f"{stem}-sources.jar").namelist())
    top_level = {c.removesuffix(".class") for c in classes if "$" not in c}
    assert top_level and {s.removesuffix(".java") for s in sources if s.endswith(".java")} == top_level
    docs = set(zipfile.ZipFile(folder / f"{stem}-javadoc.jar").namelist())
    assert "index.html" in docs and "com/openai/graders/client/OpenAIClient.html" in docs

    consumer = tmp_path / "consumer"
    source = consumer / "src" / "main" / "java" / "example" / "Main.java"
    source.parent.mkdir(parents=True)
    source.write_text(JAVA_CONSUMER, encoding="utf-8")
    (consumer / "pom.xml").write_text(consumer_pom(dist / "java", coordinates), encoding="utf-8")
    local = overlay_repository(
        tmp_path / "m2", [*coordinates["groupId"].split("."), coordinates["artifactId"]]
    )
    classpath = tmp_path / "classpath.txt"
    run(
        [mvn, "-B", "-q", "-Dstyle.color=never", f"-Dmaven.repo.local={local}", "compile",
         f"{MAVEN_DEPENDENCY_PLUGIN}:build-classpath", f"-Dmdep.outputFile={classpath}"],
        cwd=consumer,
    )  # fmt: skip
    resolved = local.joinpath(*coordinates["groupId"].split("."), coordinates["artifactId"])
    assert (resolved / coordinates["version"] / f"{stem}.jar").is_file()  # from dist, not from a cache
    full = os.pathsep.join([str(consumer / "target" / "classes"), classpath.read_text().strip()])
    assert run([java, "-cp", full, "example.Main", mock_server.url]) == "validated\n"
    assert sent_grader(mock_server) == grader("consumer-java")


# --------------------------------------------------------------------------- Ruby
RUBY_CONSUMER = """
require "openai_graders"
client = OpenAIGraders::Client.new(api_key: "sk-consumer", base_url: ARGV[0], max_retries: 0)
response = client.fine_tuning.alpha.graders.validate(
  grader: {type: :string_check, name: "consumer-ruby", input: "a", operation: :eq, reference: "b"}
)
puts(response.grader.name)
"""


def check_ruby(dist: Path, tmp_path: Path, mock_server: MockServer) -> None:
    gem, ruby = require_tool("gem"), require_tool("ruby")
    built = one(dist / "ruby", "*.gem")
    gems = tmp_path / "gems"
    env = {"GEM_HOME": str(gems), "GEM_PATH": str(gems)}
    run([gem, "install", "--local", "--no-document", "--install-dir", str(gems), str(built)], env=env)
    files = run([gem, "contents", "openai_graders"], env=env).split()
    assert any(f.endswith("/sig/openai_graders.rbs") or "/sig/" in f for f in files)
    app = tmp_path / "app.rb"
    app.write_text(RUBY_CONSUMER, encoding="utf-8")
    result = subprocess.run(
        [ruby, "-w", str(app), mock_server.url],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "consumer-ruby\n", "")
    assert sent_grader(mock_server) == grader("consumer-ruby")


# --------------------------------------------------------------------------- TypeScript
TYPESCRIPT_CONSUMER = """
import Client from "@gradergen/openai-graders";

const client = new Client({ apiKey: "sk-consumer", baseURL: process.argv[2] ?? "", maxRetries: 0 });
const response = await client.fineTuning.alpha.graders.validate({
  grader: { type: "string_check", name: "consumer-typescript", input: "a", operation: "eq", reference: "b" },
});
const checked = response.grader;
console.log(checked && "name" in checked ? checked.name : "no grader");
"""


def check_typescript(dist: Path, tmp_path: Path, mock_server: MockServer) -> None:
    npm, node = require_tool("npm"), require_tool("node")
    packed = one(dist / "typescript", "*.tgz")
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text('{"name": "consumer", "private": true, "type": "module"}\n')
    run([npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", str(packed)], cwd=app)
    (app / "app.ts").write_text(TYPESCRIPT_CONSUMER, encoding="utf-8")
    config = {
        "compilerOptions": {
            "target": "ES2022",
            "module": "NodeNext",
            "moduleResolution": "NodeNext",
            "strict": True,
            "noUncheckedIndexedAccess": True,
            "exactOptionalPropertyTypes": True,
            "types": ["node"],
            "typeRoots": [str(_typescript_tools() / "node_modules" / "@types")],
            "outDir": "out",
        },
        "files": ["app.ts"],
    }
    (app / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
    tsc = beside("typescript", "format.py").tool("tsc")
    run([*tsc, "-p", "tsconfig.json"], cwd=app)  # the package's .d.ts type-check the consumer
    result = subprocess.run(
        [node, str(app / "out" / "app.js"), mock_server.url],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "consumer-typescript\n", "")
    assert sent_grader(mock_server) == grader("consumer-typescript")


def _typescript_tools() -> Path:
    tools: Path = beside("typescript", "format.py").tools_dir()
    return tools


CONSUMER_CHECKS: dict[str, Callable[[Path, Path, MockServer], None]] = {
    "python": check_python,
    "go": check_go,
    "java": check_java,
    "ruby": check_ruby,
    "typescript": check_typescript,
}


@pytest.mark.parametrize("lang", sorted(CONSUMER_CHECKS))
def test_artifact_installs_into_a_clean_consumer_and_works(
    lang: str, dist: Path, tmp_path: Path, mock_server: MockServer
) -> None:
    CONSUMER_CHECKS[lang](dist, tmp_path, mock_server)


def test_gem_builds_without_a_warning(tmp_path: Path) -> None:
    """`make dist` builds with --strict already; this names the warning if one comes back."""
    result = subprocess.run(
        [require_tool("gem"), "build", "openai_graders.gemspec", "--output", str(tmp_path / "g.gem")],
        cwd=GENERATED / "ruby",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr + result.stdout, result.stderr


def test_each_release_file_defines_its_target_and_the_makefile_finds_them() -> None:
    assert "include $(wildcard release/*.mk)" in (ROOT / "Makefile").read_text(encoding="utf-8")
    for mk in sorted((ROOT / "release").glob("*.mk")):
        targets = re.findall(r"^(dist-[\w-]+):", mk.read_text(encoding="utf-8"), re.M)
        assert targets == [f"dist-{mk.stem}"], (
            f"{mk.name} must define exactly dist-{mk.stem}, found {targets}"
        )
