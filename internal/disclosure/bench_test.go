package disclosure

import (
	"fmt"
	"runtime"
	"testing"
)

// bigFees is a fees table of n rows (at most MaxLines+3 parse).
func bigFees(n int) []Row {
	rows := []Row{{Item: "standard", Value: "2.50"}, {Item: "collected", Value: "300000"}}
	var spent Fen
	for i := 0; len(rows) < n-1; i++ {
		rows = append(rows, Row{Item: "spending", Name: fmt.Sprintf("支出项目%04d", i), Value: "123.45"})
		spent += 12345
	}
	return append(rows, Row{Item: "spent", Value: spent.String()})
}

func BenchmarkReadXLSX(b *testing.B) {
	book, err := XLSX(Fees, bigFees(MaxRows))
	if err != nil {
		b.Fatal(err)
	}
	benchRead(b, ReadXLSX, book)
}

func BenchmarkReadCSV(b *testing.B) {
	benchRead(b, ReadCSV, CSV(Fees, bigFees(MaxRows)))
}

// benchRead times read on a file of MaxRows rows.
func benchRead(b *testing.B, read func([]byte) (File, Problems), data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, ps := read(data)
		if len(ps) > 0 || len(f.Rows) != MaxRows {
			b.Fatalf("%d rows, %v", len(f.Rows), ps.Messages("en"))
		}
	}
}

func BenchmarkParse(b *testing.B) {
	rows := bigFees(MaxLines + 3)
	b.ReportAllocs()
	for b.Loop() {
		if _, ps := Parse(Fees, rows); len(ps) > 0 {
			b.Fatal(ps.Messages("en"))
		}
	}
}

// BenchmarkRefuseZipBomb: a 64 MB bomb, honest about its size or lying about it.
func BenchmarkRefuseZipBomb(b *testing.B) {
	for _, lie := range []bool{false, true} {
		data := bomb(b, lie)
		b.Run(fmt.Sprintf("lie=%v", lie), func(b *testing.B) {
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				if _, ps := ReadXLSX(data); len(ps) == 0 {
					b.Fatal("the bomb was read")
				}
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
			b.ReportMetric(float64(peak)/(1<<20), "MB-heap-in-use")
		})
	}
}
