// How long a study's page takes to be ready in headless Chromium: from the navigation's start
// to `body[data-ready=true]` with the history figure's <svg> in the page, measured by the page's
// own clock (performance.now(), whose zero is the navigation's start). Part of
// scripts/dashboard_perf.sh (docs/benchmarks.md, "Dashboard (50,000-trial study)"); not a test
// (node --test runs only *.test.mjs).
//
//   node tests/browser/perf_first_page.mjs STUDY_PAGE_URL [LOADS]      (default 4 loads)
//
// The first load is the page's first in this browser; each load uses a new browser context, so
// none is served from the browser's cache. Prints one JSON object on standard output:
// { "loads": [ { "ready_ms", "all_figures_ms", "requests": [ { "url", "status", "start_ms",
// "ms" } … ] } … ] }: when the page was ready with its history plot, when every figure was
// drawn, and the requests it started until then (from its resource timings: when each
// started, and how long from its start to the end of its response). Exits 1 with a message when the page is not ready within 60 s or answers an
// error. The browser is $CHROMIUM, else /usr/bin/chromium.

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_MS = 60_000;

// Installed before the page's own scripts: notes the time at which the page is first ready
// with its history plot drawn (`__perfReadyAt`), and the time at which every figure of
// section#plots holds its SVG or its message (`__perfAllAt`; the page may draw the other figures
// after it says it is ready).
function watchReady() {
    const check = () => {
        if (!document.body) return;
        if (window.__perfReadyAt === undefined && document.body.dataset.ready === 'true' && document.querySelector('figure[data-kind="history"] svg')) {
            window.__perfReadyAt = performance.now();
        }
        const figures = document.querySelectorAll('section#plots figure');
        if (
            window.__perfReadyAt !== undefined &&
            window.__perfAllAt === undefined &&
            figures.length > 0 &&
            Array.from(figures).every((f) => f.querySelector('svg, .plot-message'))
        ) {
            window.__perfAllAt = performance.now();
        }
    };
    new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
}

async function load(browser, url) {
    const context = await browser.newContext();
    try {
        const page = await context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
        page.on('console', (m) => m.type() === 'error' && errors.push(`console error: ${m.text()}`));
        const failed = [];
        page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`));
        await page.addInitScript(watchReady);
        const response = await page.goto(url, { timeout: TIMEOUT_MS });
        if (!response || !response.ok()) {
            throw new Error(`GET ${url} answered ${response ? response.status() : 'nothing'}`);
        }
        await page.waitForFunction(() => window.__perfReadyAt !== undefined, null, { timeout: TIMEOUT_MS, polling: 50 });
        const readyMs = await page.evaluate(() => window.__perfReadyAt);
        await page.waitForFunction(() => window.__perfAllAt !== undefined, null, { timeout: TIMEOUT_MS, polling: 50 });
        const allMs = await page.evaluate(() => window.__perfAllAt);
        // The page's own resource timings (same clock): the requests started until every
        // figure was drawn; later ones (the live updates' long poll) are not part of the first
        // page. A finished request's entry is queued a moment after its response is used: wait.
        await page.waitForTimeout(300);
        const before = await page.evaluate((readyAt) => {
            const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
            return entries
                .filter((e) => e.startTime <= readyAt)
                .sort((a, b) => a.startTime - b.startTime)
                .map((e) => ({
                    url: e.name,
                    status: e.responseStatus,
                    start_ms: Math.round(e.startTime * 10) / 10,
                    ms: Math.round((e.responseEnd - e.startTime) * 10) / 10,
                }));
        }, allMs);
        if (failed.length) throw new Error(`the page's requests failed: ${failed.join(', ')}`);
        if (errors.length) throw new Error(`the page logged errors:\n${errors.join('\n')}`);
        const round = (x) => Math.round(x * 10) / 10;
        return { ready_ms: round(readyMs), all_figures_ms: round(allMs), requests: before };
    } finally {
        await context.close();
    }
}

async function main() {
    const [url, loadsArg = '4'] = process.argv.slice(2);
    const loads = Number(loadsArg);
    if (!url || !Number.isInteger(loads) || loads < 1) {
        throw new Error('usage: node tests/browser/perf_first_page.mjs STUDY_PAGE_URL [LOADS]');
    }
    if (!existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} does not exist: run scripts/browser_setup.sh or set CHROMIUM`);
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    try {
        const results = [];
        for (let i = 0; i < loads; i++) results.push(await load(browser, url));
        process.stdout.write(`${JSON.stringify({ loads: results })}\n`);
    } finally {
        await browser.close();
    }
}

main().catch((e) => {
    process.stderr.write(`perf_first_page.mjs: ${e.message}\n`);
    process.exit(1);
});
