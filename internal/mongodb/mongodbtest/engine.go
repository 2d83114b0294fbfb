package mongodbtest

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
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

// IDs returns the _id of every document of c, which must be strings.
func IDs(t testing.TB, c *mongo.Collection) []string {
	t.Helper()
	ctx := context.Background()
	cur, err := c.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids
}
