package web

import (
	"net/http"
	"sync"
	"testing"
)

// Many visitors at once, while a publication lands: every one gets a whole page, from the
// old publication or the new one, and the cache ends up on the new one.
func TestPublishedCacheUnderConcurrentUse(t *testing.T) {
	e := newPublishedEnv(t)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client()
			for j := range 20 {
				path := reportPaths[(i+j)%len(reportPaths)]
				if r := c.get(path); r.StatusCode != http.StatusOK || len(r.body) < 500 {
					errs <- path + ": " + r.Status
					return
				}
			}
		}()
	}
	e.scoreAndPublish("2026Q4")
	e.clock.Advance(publishedTTL)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wantBody(t, e.client().get("/lists/2026Q4"), "第2次发布")
}
