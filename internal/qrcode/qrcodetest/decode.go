// Package qrcodetest reads back the QR codes that package qrcode draws, for tests.
package qrcodetest

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"regexp"
	"strconv"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

var (
	viewBox = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)
	run     = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
)

// Decode reads one QR code drawn by qrcode.SVG (one <svg> element) as a scanner would: it
// paints the runs of the path onto a bitmap, four pixels per module, and decodes that with ZXing.
func Decode(svg string) (string, error) {
	m := viewBox.FindStringSubmatch(svg)
	if m == nil {
		return "", errors.New("no viewBox: not a QR code drawn by qrcode.SVG")
	}
	const scale = 4
	side, _ := strconv.Atoi(m[1])
	img := image.NewGray(image.Rect(0, 0, side*scale, side*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for _, r := range run.FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		w, _ := strconv.Atoi(r[3])
		for px := x * scale; px < (x+w)*scale; px++ {
			for py := y * scale; py < (y+1)*scale; py++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
	}
	return decodeImage(img)
}

// DecodePNG reads the QR code in a picture, such as a browser's screenshot of a slip.
func DecodePNG(picture []byte) (string, error) {
	img, err := png.Decode(bytes.NewReader(picture))
	if err != nil {
		return "", err
	}
	return decodeImage(img)
}

func decodeImage(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}
