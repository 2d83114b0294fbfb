package mongodb

import (
	"errors"
	"sync"
)

// lookupsInFlight bounds the lookups by _id that one reader has in flight at once: the embedded
// engine serves only {_id: value} from its index, so reads of many documents are many lookups.
const lookupsInFlight = 8

// parallel runs f(0), …, f(n-1), lookupsInFlight at a time, and returns their errors joined.
func parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, lookupsInFlight)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
