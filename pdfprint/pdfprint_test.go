package pdfprint_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lifttrust/pdfprint"
)

// TestPrintEmbedsTheCJKFont prints a Chinese page on A4 and checks with
// poppler's tools that the text is there and that a CJK font is embedded.
func TestPrintEmbedsTheCJKFont(t *testing.T) {
	if _, err := pdfprint.FindChromium(os.Getenv("LIFTTRUST_CHROMIUM")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "p.html")
	html := `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>@page { size: A4; } body { font-family: "WenQuanYi Micro Hei", sans-serif; }</style></head>
<body><h1 style="font-weight:400">电梯安全状况报告</h1><p>在用电梯 304,634 台</p></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out := filepath.Join(dir, "p.pdf")
	if err := pdfprint.PrintFiles(ctx, os.Getenv("LIFTTRUST_CHROMIUM"), [2]string{page, out}); err != nil {
		t.Fatal(err)
	}
	pdf, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %v", err)
	}
	fonts, err := exec.Command("pdffonts", out).Output()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pdffonts (poppler-utils): %v", err)
		}
		t.Skipf("pdffonts not installed: %v", err)
	}
	embedded := false
	for _, l := range strings.Split(string(fonts), "\n") {
		if strings.Contains(l, "WenQuanYi") && strings.Contains(l, " yes ") {
			embedded = true
		}
	}
	if !embedded {
		t.Errorf("no embedded CJK font (apt-get install fonts-wqy-microhei):\n%s", fonts)
	}
	txt, err := exec.Command("pdftotext", out, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(txt), "电梯安全状况报告") {
		t.Errorf("the Chinese text is not in the PDF: %q", txt)
	}
	info, _ := exec.Command("pdfinfo", out).Output()
	if !strings.Contains(string(info), "(A4)") {
		t.Errorf("not A4:\n%s", info)
	}
}

func TestMissingChromiumIsAClearError(t *testing.T) {
	_, err := pdfprint.Start(context.Background(), "/nonexistent/chromium")
	if err == nil || !strings.Contains(err.Error(), "apt-get install chromium") {
		t.Errorf("err = %v", err)
	}
}
