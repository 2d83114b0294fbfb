package mongodb

import (
	"sort"

	"github.com/propcredit/propcredit/internal/domain"
)

func sortHouseholds(hs []domain.Household) {
	sort.Slice(hs, func(i, j int) bool { return hs[i].Flat < hs[j].Flat })
}

func sortVersions(vs []ratingDoc) {
	sort.Slice(vs, func(i, j int) bool { return vs[i].Revision < vs[j].Revision })
}
