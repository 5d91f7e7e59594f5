package kernels

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// The two widths' files are the template's instances: edit
// activation_vec.tmpl and run go generate, never the files.
func TestActivationFilesAreGenerated(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(goTool, "run", "gen_activation.go", "-check").CombinedOutput()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		// CI has the toolchain, so there a generator that cannot run is a failure.
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot run gen_activation.go (%v): %s", err, out)
		}
		t.Skipf("cannot run gen_activation.go (%v): %s", err, out)
	}
	if err != nil {
		t.Errorf("%s", out)
	}
}
