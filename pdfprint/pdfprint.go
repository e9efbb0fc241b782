// Package pdfprint turns HTML files into PDF with Chromium's print-to-PDF
// (through chromedp), for the yearly report and the QR label sheets.
//
// Why a browser: the pages are Chinese, and a PDF must embed its font.
// Chromium lays the page out exactly as the print preview does (the same
// @page A4 CSS), finds the CJK font that Debian installs (fonts-noto-cjk)
// through fontconfig, and embeds only the glyphs used, so a report is a
// few hundred kilobytes, not the 20 MB of a whole Noto CJK file. The pure-Go
// PDF writers can do none of that for OpenType CJK collections.
//
// The browser starts with a fresh temporary profile and no background
// traffic (no component updates, no sync, no first-run pages), headless,
// and is stopped and its profile removed by Close.
package pdfprint

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/chromedp/chromedp"
)

// ErrNoChromium says that no Chromium binary was found.
var ErrNoChromium = errors.New("Chromium not found: install Debian's chromium and fonts-noto-cjk (apt-get install chromium fonts-noto-cjk) or set LIFTTRUST_CHROMIUM")

// FindChromium returns path when it names an executable, else the first of
// chromium, chromium-browser, google-chrome on PATH or /usr/bin/chromium.
func FindChromium(path string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("%w (%s: %v)", ErrNoChromium, path, err)
		}
		return path, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	return "", ErrNoChromium
}

// Printer is one running headless Chromium that prints pages one by one.
type Printer struct {
	dir          string
	cancelAlloc  context.CancelFunc
	browser      context.Context
	cancelBrowse context.CancelFunc
}

// Start launches Chromium (execPath "" finds it, see FindChromium). The
// browser lives until Close or until ctx is done.
func Start(ctx context.Context, execPath string) (*Printer, error) {
	path, err := FindChromium(execPath)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lifttrust-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium profile: %w", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // runs as root in containers and CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// /dev/shm is 64 MB in many containers; a long report fills it.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dir),
	}
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		cancelB()
		cancelA()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start Chromium %s: %w", path, err)
	}
	return &Printer{dir: dir, cancelAlloc: cancelA, browser: bctx, cancelBrowse: cancelB}, nil
}

// Close stops the browser and removes its profile.
func (p *Printer) Close() error {
	p.cancelBrowse()
	p.cancelAlloc() // waits for the process to exit
	return os.RemoveAll(p.dir)
}

// PrintFile loads the HTML file at htmlPath and returns it printed as PDF:
// A4 unless the page's @page CSS says otherwise, with backgrounds, after
// every web font and layout is ready. The page is opened in a tab of its
// own, closed afterwards.
func (p *Printer) PrintFile(ctx context.Context, htmlPath string) ([]byte, error) {
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("print %s: %w", htmlPath, err)
	}
	tab, cancel := chromedp.NewContext(p.browser)
	defer cancel()
	// The tab stops with ctx as well as with the browser.
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	u := url.URL{Scheme: "file", Path: abs}
	if err := chromedp.Do(tab, chromedp.Navigate(u.String())); err != nil {
		return nil, fmt.Errorf("print %s: load: %w", htmlPath, err)
	}
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		return nil, fmt.Errorf("print %s: fonts: %w", htmlPath, err)
	}
	pdf, err := chromedp.Run(tab, chromedp.PrintToPDF(
		chromedp.PDFPaper(chromedp.PaperA4),
		chromedp.PDFPreferCSSPageSize(),
		chromedp.PDFPrintBackground(),
		chromedp.PDFStream(),
	))
	if err != nil {
		return nil, fmt.Errorf("print %s: %w", htmlPath, err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return pdf, nil
}

// PrintFiles starts a browser, prints each HTML file of pairs to its PDF
// path ([html, pdf]), and stops the browser.
func PrintFiles(ctx context.Context, execPath string, pairs ...[2]string) (err error) {
	p, err := Start(ctx, execPath)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := p.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for _, pr := range pairs {
		pdf, err := p.PrintFile(ctx, pr[0])
		if err != nil {
			return err
		}
		if err := os.WriteFile(pr[1], pdf, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", pr[1], err)
		}
	}
	return nil
}
