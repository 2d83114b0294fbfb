package mongodbtest

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/ferretdb"
)

// EngineOn starts the embedded engine on the data directory dir, as a process that holds it
// would, and connects a plain driver client to it. stop disconnects and stops the engine; it
// also runs when the test ends, if it has not run before.
func EngineOn(t testing.TB, dir string) (c *mongo.Client, stop func()) {
	t.Helper()
	ctx := context.Background()
	e, err := ferretdb.Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err = mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			c.Disconnect(ctx)
			e.Close()
		}
	}
	t.Cleanup(stop)
	return c, stop
}
