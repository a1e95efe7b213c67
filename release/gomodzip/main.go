// Command gomodzip writes one version of the module in a directory as a Go module proxy serves it:
// OUT/<escaped module path>/@v/ gets list, <version>.info, <version>.mod and <version>.zip, the zip
// made and checked by golang.org/x/mod/zip (the go command's own rules for module zips). OUT works
// as GOPROXY=file://OUT, and its files are what a proxy or a tagged repository publishes.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

func main() {
	dir := flag.String("dir", "", "the module's directory (holding go.mod)")
	version := flag.String("version", "", "the version, e.g. 1.2.3 or v1.2.3")
	out := flag.String("out", "", "the proxy directory to write into")
	flag.Parse()
	if *dir == "" || *version == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: gomodzip -dir DIR -version VERSION -out DIR")
		os.Exit(2)
	}
	if err := write(*dir, *version, *out); err != nil {
		fmt.Fprintf(os.Stderr, "gomodzip: %v\n", err)
		os.Exit(1)
	}
}

func write(dir, version, out string) error {
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	path := modfile.ModulePath(goMod)
	if path == "" {
		return fmt.Errorf("%s/go.mod names no module", dir)
	}
	v := version
	if v[0] != 'v' {
		v = "v" + v
	}
	if semver.Canonical(v) != v {
		return fmt.Errorf("%q is not a canonical semantic version (such as v1.2.3): Go module versions must be", version)
	}
	mod := module.Version{Path: path, Version: v}
	if err := module.Check(mod.Path, mod.Version); err != nil {
		return err // for instance v2.0.0 of a module whose path does not end in /v2
	}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	at := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return err
	}
	zipFile, err := os.Create(filepath.Join(at, v+".zip"))
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(zipFile, mod, dir); err != nil {
		zipFile.Close()
		return err
	}
	if err := zipFile.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(at, v+".mod"), goMod, 0o644); err != nil {
		return err
	}
	info, err := json.Marshal(map[string]string{"Version": v})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(at, v+".info"), append(info, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(at, "list"), []byte(v+"\n"), 0o644)
}
