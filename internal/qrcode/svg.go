// Package qrcode draws QR codes as inline SVG: a printed slip then needs no image file, no
// script and no third-party service, and the code stays sharp at any print size.
package qrcode

import (
	"fmt"
	"html"
	"html/template"
	"strings"

	"rsc.io/qr"
)

// quietZone is the blank margin, in modules, that scanners need around the symbol.
const quietZone = 4

// SVG encodes text as a QR code (error correction level M, which survives a smudged or
// creased slip) and returns it as an <svg> element whose accessible name is label.
//
// Each row's runs of dark modules become one path segment "M x y h w v1 h -w z", so a typical
// rating address makes a few kilobytes, and tests can read the symbol back.
func SVG(text, label string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", fmt.Errorf("encode QR code: %w", err)
	}
	side := code.Size + 2*quietZone
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 %d %d" role="img" aria-label="%s" shape-rendering="crispEdges">`,
		side, side, html.EscapeString(label))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, side, side)
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; {
			if !code.Black(x, y) {
				x++
				continue
			}
			run := 1
			for code.Black(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+quietZone, y+quietZone, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil // every interpolated string above is escaped or a number
}
