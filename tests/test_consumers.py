"""Generating into another repo at build time, as README "Generating into another repo" shows it: each
ecosystem's own build (go generate, a Maven generate-sources execution, a Rakefile task, a hatchling build
hook) runs the released gradergen in a throwaway consumer project, which then builds and calls the mock
API. The build snippets are read from the README, so what it shows is what is tested.

gradergen is the one `make dist` built, installed in a clean virtualenv (the `installed_gradergen`
fixture); it reaches the builds through PATH, as it would on a developer's machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import zipfile
from pathlib import Path

from harness import BIN, ROOT, go_validate_program, require_tool, run
from mock_server import MockServer
from release import make_venv, one, pip_install

SNIPPET = re.compile(r"<!-- consumer (\w+): (\S+) -->\n```[\w-]*\n(.*?)\n```", re.S)


GO_DOC = "Command consumer validates a grader with the bindings go generate made."


def snippets(consumer: str) -> dict[str, str]:
    """The README's files of one consumer, by name."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Generating into another repo\n")[1]
    found = {name: text + "\n" for kind, name, text in SNIPPET.findall(section) if kind == consumer}
    assert found, f"README's 'Generating into another repo' shows no {consumer} consumer"
    return found


def write(project: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")


def path_with(bin_dir: Path) -> dict[str, str]:
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def sent_name(mock_server: MockServer) -> str:
    (request,) = mock_server.requests
    name: str = request["json"]["grader"]["name"]
    return name


# --------------------------------------------------------------------------- Go: //go:generate


def test_go_generate_then_check_in_a_consumer_module(
    installed_gradergen: Path, tmp_path: Path, mock_server: MockServer
) -> None:
    go = require_tool("go")
    project = tmp_path / "consumer"
    main_go = go_validate_program("example.com/consumer/graders", "go-generate", "k", GO_DOC)
    write(project, {**snippets("go"), "main.go": main_go})
    env = {**path_with(installed_gradergen), "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOWORK": "off"}
    run([go, "generate", "./..."], cwd=project, env=env)
    assert (project / "graders" / "go.mod").read_text().count("module example.com/consumer/graders") == 1
    run([go, "vet", "./..."], cwd=project, env=env)
    run([go, "build", "-o", str(tmp_path / "app"), "."], cwd=project, env=env)
    assert run([str(tmp_path / "app"), mock_server.url]) == "go-generate\n"
    assert sent_name(mock_server) == "go-generate"

    # the same command with --check, as the consumer's CI would run it
    (directive,) = re.findall(r"^//go:generate (.+)$", snippets("go")["gen.go"], re.M)
    check = [str(installed_gradergen / directive.split()[0]), *directive.split()[1:], "--check"]
    result = subprocess.run(check, cwd=project, capture_output=True, text=True, timeout=300)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    models = project / "graders" / "models.go"
    models.write_text(models.read_text() + "// edited by hand\n")
    (project / "graders" / "doc.go").unlink()
    before = {p: p.read_bytes() for p in (project / "graders").rglob("*") if p.is_file()}
    result = subprocess.run(check, cwd=project, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert result.stdout == "added    graders/doc.go\nchanged  graders/models.go\n"
    assert "2 generated files out of date" in result.stderr
    assert {p: p.read_bytes() for p in (project / "graders").rglob("*") if p.is_file()} == before


# --------------------------------------------------------------------------- Maven: generate-sources
MAVEN_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>consumer</artifactId>
  <version>1</version>
  <properties>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <maven.compiler.release>17</maven.compiler.release>
  </properties>
  <dependencies>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
      <version>2.18.2</version>
    </dependency>
  </dependencies>
{build}
</project>
"""

MAVEN_PLUGIN_VERSIONS = """  <pluginManagement>
    <plugins>
      <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
      <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
      <plugin><artifactId>maven-surefire-plugin</artifactId><version>3.5.2</version></plugin>
      <plugin><artifactId>maven-jar-plugin</artifactId><version>3.4.2</version></plugin>
    </plugins>
  </pluginManagement>
"""
"""The consumer's own choice, not part of the README's snippet: Maven 3.8's defaults predate Java 17."""

JAVA_MAIN = """package example;

import com.acme.graders.client.OpenAIClient;
import com.acme.graders.models.finetuning.alpha.graders.GraderValidateParams;
import com.acme.graders.models.graders.gradermodels.StringCheckGrader;

public final class Main {
    private Main() {}

    public static void main(String[] args) {
        OpenAIClient client = OpenAIClient.builder().apiKey("k").baseUrl(args[0]).maxRetries(0).build();
        client.fineTuning().alpha().graders().validate(GraderValidateParams.builder()
            .grader(StringCheckGrader.builder()
                .input("a").name("maven-generate-sources").operation(StringCheckGrader.Operation.EQ).reference("b")
                .build())
            .build());
        System.out.println("validated");
    }
}
"""


def test_maven_generate_sources_runs_gradergen_then_compiles(
    installed_gradergen: Path, tmp_path: Path, mock_server: MockServer
) -> None:
    mvn, java = require_tool("mvn"), require_tool("java")
    project = tmp_path / "consumer"
    build = snippets("maven")["build"].replace("<build>\n", f"<build>\n{MAVEN_PLUGIN_VERSIONS}", 1)
    indented = "\n".join(f"  {line}" if line else line for line in build.splitlines())
    write(
        project,
        {"pom.xml": MAVEN_POM.format(build=indented), "src/main/java/example/Main.java": JAVA_MAIN},
    )
    classpath = tmp_path / "classpath.txt"
    run(
        [mvn, "-B", "-q", "-Dstyle.color=never", "package",
         "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath",
         f"-Dmdep.outputFile={classpath}"],
        cwd=project,
        env=path_with(installed_gradergen),
    )  # fmt: skip
    generated = project / "target" / "generated-sources" / "gradergen"
    assert (generated / ".gradergen-files").is_file()
    assert (
        project / "target" / "classes" / "com" / "acme" / "graders" / "client" / "OpenAIClient.class"
    ).is_file()
    full = os.pathsep.join([str(project / "target" / "classes"), classpath.read_text().strip()])
    assert run([java, "-cp", full, "example.Main", mock_server.url]) == "validated\n"
    assert sent_name(mock_server) == "maven-generate-sources"


# --------------------------------------------------------------------------- Ruby: a Rakefile task
RUBY_APP = """
require "acme/graders"
client = Acme::Graders::Client.new(api_key: "k", base_url: ARGV[0], max_retries: 0)
response = client.fine_tuning.alpha.graders.validate(
  grader: {type: :string_check, name: "rake-task", input: "a", operation: :eq, reference: "b"}
)
puts(response.grader.name)
"""


def test_rake_task_generates_and_its_check_task_fails_on_a_stale_file(
    installed_gradergen: Path, tmp_path: Path, mock_server: MockServer
) -> None:
    rake, ruby = require_tool("rake"), require_tool("ruby")
    project = tmp_path / "consumer"
    write(project, {**snippets("rake"), "app.rb": RUBY_APP})
    env = path_with(installed_gradergen)
    run([rake, "graders"], cwd=project, env=env)
    result = subprocess.run(
        [ruby, "-w", "-Ivendor/acme-graders/lib", "app.rb", mock_server.url],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "rake-task\n", "")
    assert sent_name(mock_server) == "rake-task"
    run([rake, "graders:check"], cwd=project, env=env)
    version = next((project / "vendor" / "acme-graders" / "lib").rglob("version.rb"))
    version.write_text(version.read_text() + "# edited\n")
    result = subprocess.run(
        [rake, "graders:check"],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert f"changed  {version.relative_to(project)}\n" in result.stdout
    assert version.read_text().endswith("# edited\n")


# --------------------------------------------------------------------------- Python: a hatchling build hook
PYTHON_APP = '''"""The consumer's own code, using the package the build hook generated."""

import sys

from acme_graders import Client


def main() -> None:
    client = Client(api_key="k", base_url=sys.argv[1], max_retries=0)
    grader = {"type": "string_check", "name": "hatch-hook", "input": "a", "operation": "eq", "reference": "b"}
    print(client.fine_tuning.alpha.graders.validate(grader=grader).model_dump(mode="json")["grader"]["name"])
'''


def test_hatch_build_hook_generates_into_the_wheel(
    installed_gradergen: Path, tmp_path: Path, mock_server: MockServer
) -> None:
    project = tmp_path / "consumer"
    write(project, {**snippets("hatch"), "src/consumer_app/__init__.py": PYTHON_APP})
    wheels = tmp_path / "wheels"
    # the build frontend and hatchling are the pinned ones of this repo; gradergen is the released one
    run(
        [
            str(BIN / "python"),
            "-m",
            "build",
            "--no-isolation",
            "--wheel",
            "--outdir",
            str(wheels),
            str(project),
        ],
        env=path_with(installed_gradergen),
    )
    wheel = one(wheels, "consumer_app-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "consumer_app/__init__.py" in names
    assert {"acme_graders/__init__.py", "acme_graders/models.py", "acme_graders/py.typed"} <= set(names)
    consumer = make_venv(tmp_path / "venv")
    pip_install(consumer, str(wheel))
    program = "import sys, consumer_app; consumer_app.main()"
    assert run([str(consumer / "python"), "-c", program, mock_server.url], cwd=tmp_path) == "hatch-hook\n"
    assert sent_name(mock_server) == "hatch-hook"
