package mongodb

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestEveryCollectionIsListed fails when a collection name is declared without being added to
// allCollections, which would leave its table without the _id index (see ferretdb.IndexIDs).
func TestEveryCollectionIsListed(t *testing.T) {
	declared := regexp.MustCompile(`(?m)^\s*(?:const\s+)?col[A-Z]\w*\s*=\s*"([^"]+)"`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range declared.FindAllStringSubmatch(string(src), -1) {
			found++
			if !slices.Contains(allCollections, m[1]) {
				t.Errorf("%s declares collection %q, which allCollections does not list", f, m[1])
			}
		}
	}
	if found != len(allCollections) {
		t.Errorf("found %d declared collections, allCollections lists %d", found, len(allCollections))
	}
}
