package layers

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/propcredit/propcredit"

// Packages below the web that know neither HTTP nor the database: the use cases (the
// bureau's workflows, which own their types and rules and declare the small interfaces they
// need from storage) and the limiter they share with the web.
var useCases = []string{
	module + "/internal/publication",
	module + "/internal/filing",
	module + "/internal/ledger",
	module + "/internal/evaluate",
	module + "/internal/ratelimit",
	module + "/internal/rating",
	module + "/internal/credit",
	module + "/internal/periods",
	module + "/internal/audit",
	module + "/internal/signin",
}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func list(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; is the module path right?", len(pkgs))
	}
	return pkgs
}

func under(path, prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") }

// TestImportRules: the web and the commands reach storage only through the use cases and
// main's wiring (internal/app); use cases know neither HTTP nor the database driver; the
// scoring engine imports nothing of the project. Test files are not checked: tests may set
// up the embedded engine directly.
func TestImportRules(t *testing.T) {
	pkgs := list(t)
	found := map[string]bool{}
	for _, p := range pkgs {
		found[p.ImportPath] = true
		switch {
		case under(p.ImportPath, module+"/internal/web"), under(p.ImportPath, module+"/cmd"):
			bad := slices.ContainsFunc(p.Imports, func(i string) bool {
				return under(i, module+"/internal/mongodb") || under(i, module+"/internal/ferretdb") || under(i, "go.mongodb.org/mongo-driver")
			})
			if bad {
				t.Errorf("%s imports storage; call a use case, or let main's wiring (internal/app) pass it in", p.ImportPath)
			}
		case slices.Contains(useCases, p.ImportPath):
			for _, d := range p.Deps {
				if under(d, "github.com/gofiber") || under(d, "github.com/valyala/fasthttp") || under(d, "go.mongodb.org") ||
					under(d, module+"/internal/mongodb") || under(d, module+"/internal/web") || under(d, module+"/internal/app") {
					t.Errorf("use case %s depends on %s", p.ImportPath, d)
				}
			}
		case under(p.ImportPath, module+"/scoring"):
			for _, d := range p.Deps {
				if under(d, module) && !under(d, module+"/scoring") {
					t.Errorf("the scoring engine %s depends on %s; it must stay pure", p.ImportPath, d)
				}
			}
		case p.ImportPath == module+"/internal/domain":
			for _, d := range p.Deps {
				if under(d, module) && d != module+"/internal/derrors" && d != module+"/scoring" {
					t.Errorf("domain depends on %s; it is the centre and imports only derrors and scoring", d)
				}
			}
		}
	}
	for _, uc := range useCases {
		if !found[uc] {
			t.Errorf("use case %s not found", uc)
		}
	}
}
