package booths

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"
)

// License is what a printed license says.
type License struct {
	// ID names the license's PDF in LicenseBucket.
	ID string
	// Number is the license number printed for people ("PE-2026-3F9A1C2B").
	Number      string
	Name        string
	LicenseType string
	Issued      time.Time
}

// licenseNumber makes a license number from the type's initials, the year
// of issue and the first 8 hex digits of the id.
func licenseNumber(licenseType, id string, issued time.Time) string {
	var initials strings.Builder
	for w := range strings.SplitSeq(licenseType, "-") {
		if w != "" {
			initials.WriteRune(unicode.ToUpper(rune(w[0])))
		}
	}
	hex := strings.ToUpper(strings.ReplaceAll(id, "-", ""))
	if len(hex) > 8 {
		hex = hex[:8]
	}
	return fmt.Sprintf("%s-%d-%s", initials.String(), issued.Year(), hex)
}

// titleCase turns "professional-engineer" into "Professional Engineer".
func titleCase(licenseType string) string {
	words := strings.Split(licenseType, "-")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// renderLicense draws the license as a one-page A4 PDF. Text uses the PDF
// core fonts, so it must be printable in code page 1252 (printableName).
func renderLicense(l License) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetCreationDate(l.Issued)
	pdf.SetModificationDate(l.Issued)
	pdf.SetTitle("License "+l.Number, true)
	pdf.SetAuthor("HMS Government Services", true)
	pdf.SetCreator("hms-svc license-printer", true)
	pdf.AddPage()

	pdf.SetLineWidth(1)
	pdf.Rect(10, 10, 190, 277, "D")

	pdf.SetY(35)
	pdf.SetFont("Helvetica", "B", 22)
	pdf.CellFormat(0, 12, "HMS Government Services", "", 1, "C", false, 0, "")
	pdf.SetFont("Helvetica", "", 16)
	pdf.CellFormat(0, 10, "Professional License", "", 1, "C", false, 0, "")

	pdf.Ln(20)
	pdf.SetFont("Helvetica", "", 13)
	pdf.CellFormat(0, 8, "This certifies that", "", 1, "C", false, 0, "")
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 24)
	pdf.CellFormat(0, 14, tr(l.Name), "", 1, "C", false, 0, "")
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "", 13)
	pdf.CellFormat(0, 8, "is licensed as", "", 1, "C", false, 0, "")
	pdf.SetFont("Helvetica", "B", 18)
	pdf.CellFormat(0, 12, titleCase(l.LicenseType), "", 1, "C", false, 0, "")

	pdf.Ln(25)
	pdf.SetFont("Helvetica", "", 12)
	for _, row := range [][2]string{
		{"License type", l.LicenseType},
		{"License number", l.Number},
		{"Issue date", l.Issued.Format("2006-01-02")},
		{"Document id", l.ID},
	} {
		pdf.SetX(40)
		pdf.CellFormat(50, 8, row[0]+":", "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 8, row[1], "", 1, "L", false, 0, "")
	}

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("rendering license PDF: %w", err)
	}
	return buf.Bytes(), nil
}

// maxNameLen bounds an applicant's name, in characters.
const maxNameLen = 100

// printableName checks that name can be printed on a license: not empty, at
// most maxNameLen characters, no control characters, and every character in
// code page 1252 (the core fonts' encoding) so none prints as a dot.
func printableName(name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("name is required")
	}
	if n := len([]rune(name)); n > maxNameLen {
		return fmt.Errorf("name is %d characters long; at most %d are allowed", n, maxNameLen)
	}
	cp1252 := cp1252Runes()
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("name contains the control character %U", r)
		}
		if r >= 0x80 && !cp1252[r] {
			return fmt.Errorf("name contains %q, which the license font cannot print", r)
		}
	}
	return nil
}

// cp1252Runes is the set of non-ASCII runes code page 1252 can print, read
// once from fpdf's own translation table (all of them are below U+2200).
var cp1252Runes = sync.OnceValue(func() map[rune]bool {
	tr := fpdf.New("P", "mm", "A4", "").UnicodeTranslatorFromDescriptor("")
	set := make(map[rune]bool, 128)
	for r := rune(0x80); r < 0x2200; r++ {
		if tr(string(r)) != "." {
			set[r] = true
		}
	}
	return set
})
