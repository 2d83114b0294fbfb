package disclosure

import (
	"bytes"
	"testing"
)

// The readers take files from anyone with a company log-in: whatever the bytes, they must
// return rows or problems (never panic, never hang), and whatever they accept must survive
// the trip through the database form unchanged. Seeds: testdata/fuzz/<FuzzName>/ and the
// templates below.

func FuzzReadCSV(f *testing.F) {
	for _, category := range []string{Utilities, Fees, MaintenanceFund, Parking} {
		d, _ := Parse(category, valid[category])
		f.Add(category, CSV(category, Rows(d)))
		f.Add(category, CSV(category, TemplateRows(category)))
	}
	f.Fuzz(readAndRoundTrip(ReadCSV))
}

// readAndRoundTrip is the fuzz target of a reader: a file it reads without problems parses
// and round-trips.
func readAndRoundTrip(read func([]byte) (File, Problems)) func(t *testing.T, category string, data []byte) {
	return func(t *testing.T, category string, data []byte) {
		file, ps := read(data)
		if len(ps) > 0 {
			return
		}
		parseAndRoundTrip(t, category, file.Rows)
	}
}

func FuzzReadXLSX(f *testing.F) {
	for _, category := range []string{Utilities, Fees} {
		d, _ := Parse(category, valid[category])
		b, err := XLSX(category, Rows(d))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(category, b)
	}
	f.Fuzz(readAndRoundTrip(ReadXLSX))
}

// FuzzReadXLSXSheet fuzzes the worksheet XML inside a well-formed workbook: byte mutations of
// a whole XLSX mostly break its zip checksums, which stops them before excelize looks inside.
func FuzzReadXLSXSheet(f *testing.F) {
	f.Add(Fees, feesSheet(num("C4", "280000.5")))
	f.Add(Fees, feesSheet(`<c r="C4"><f>SUM(C5:C7)</f></c>`))
	f.Add(Fees, feesSheet(`<c r="C4" t="e"><v>#REF!</v></c>`)+num("XFD9", "1"))
	f.Fuzz(func(t *testing.T, category, sheetData string) {
		file, ps := ReadXLSX(workbook(t, sheetData))
		if len(ps) > 0 {
			return
		}
		parseAndRoundTrip(t, category, file.Rows)
	})
}

func FuzzParseYuan(f *testing.F) {
	for _, s := range []string{"1234.56", "1,234.5", "¥0.01", "-1", "1e3", "9999999999999.99", "(1)", "1.500"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseYuan(s)
		if err != nil {
			return
		}
		if v < 0 || v > maxAmount {
			t.Fatalf("ParseYuan(%q) = %d, out of range", s, v)
		}
		for _, again := range []string{v.String(), v.Display()} {
			if back, err := ParseYuan(again); err != nil || back != v {
				t.Fatalf("ParseYuan(%q) = %d, but ParseYuan(%q) = %d, %v", s, v, again, back, err)
			}
		}
	})
}

// parseAndRoundTrip parses rows, and when they are accepted checks that the stored JSON reads
// back to the same figures through each way in: the API's JSON, the database, the rows a
// company edits, and the CSV and XLSX files it downloads.
func parseAndRoundTrip(t *testing.T, category string, rows []Row) {
	if !IsCategory(category) {
		category = Fees
	}
	d, ps := Parse(category, rows)
	if len(ps) > 0 {
		return
	}
	stored := Marshal(d)
	if back, ps := Decode(category, "data", stored); len(ps) > 0 || !bytes.Equal(Marshal(back), stored) {
		t.Fatalf("Decode(%s) = %v", stored, ps.Messages("en"))
	}
	if back, ok := Stored(category, stored); !ok || !bytes.Equal(Marshal(back), stored) {
		t.Fatalf("Stored(%s) failed", stored)
	}
	if back, ps := Parse(category, Rows(d)); len(ps) > 0 || !bytes.Equal(Marshal(back), stored) {
		t.Fatalf("Parse(Rows(%s)) = %v", stored, ps.Messages("en"))
	}
	file, ps := ReadCSV(CSV(category, Rows(d)))
	if len(ps) > 0 {
		t.Fatalf("ReadCSV(CSV(%s)) = %v", stored, ps.Messages("en"))
	}
	if back, ps := Parse(category, file.Rows); len(ps) > 0 || !bytes.Equal(Marshal(back), stored) {
		t.Fatalf("CSV round trip of %s = %v", stored, ps.Messages("en"))
	}
	_ = View(d, "zh")
}
