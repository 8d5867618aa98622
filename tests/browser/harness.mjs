// The browser tests' shared harness: a fixture storage made by the real `tunewise` binary, the
// dashboard started on it, headless Chromium (Debian's, driven by playwright-core) with every
// console error and page error collected, and everything stopped again even when a test fails.
//
// The binary is $TUNEWISE_BIN (scripts/browser_tests.sh sets it), else
// $CARGO_TARGET_DIR/debug/tunewise, else target/debug/tunewise; the browser is $CHROMIUM, else
// /usr/bin/chromium.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..');
export const BIN =
    process.env.TUNEWISE_BIN ||
    join(process.env.CARGO_TARGET_DIR ? resolve(REPO, process.env.CARGO_TARGET_DIR) : join(REPO, 'target'), 'debug', 'tunewise');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** How long a condition in the page may take (live updates promise ~2 s; this is generous for a busy 2-core machine). */
export const WAIT_MS = 15_000;

// Every process group this process started (pid → its stop signal), ended on exit whatever
// happened: a group stopped by SIGINT (`tunewise run`) gets only that, so that it can still kill
// its programs; the others get SIGKILL as well.
const groups = new Map();
function killGroup(pid, signal) {
    try {
        process.kill(-pid, signal);
    } catch {
        // already gone
    }
}
function endAll() {
    for (const [pid, signal] of groups) {
        killGroup(pid, signal);
        if (signal !== 'SIGINT') killGroup(pid, 'SIGKILL');
    }
}
process.on('exit', endAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
        endAll();
        process.exit(130);
    });
}

/**
 * Starts `tunewise ARGS…` in its own process group. Returns the child, its exit as a promise
 * (`done`: `{ code, signal, stdout, stderr }`) and `stop()`, which ends the whole group
 * (STOPSIGNAL, then SIGKILL after 5 s) and resolves with the exit. `tunewise run` wants SIGINT:
 * like Ctrl-C, it then kills its programs, which run in process groups of their own.
 */
export function startTunewise(args, { cwd, env, stopSignal = 'SIGTERM' } = {}) {
    if (!existsSync(BIN)) {
        throw new Error(`the tunewise binary ${BIN} does not exist: build it (cargo build -p tunewise-cli) or set TUNEWISE_BIN`);
    }
    const child = spawn(BIN, args, {
        cwd,
        detached: true, // its own process group, so stop() also ends the programs it started
        env: { ...process.env, PATH: `${dirname(BIN)}:${process.env.PATH}`, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    groups.set(child.pid, stopSignal);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const done = new Promise((resolveDone, rejectDone) => {
        child.on('error', rejectDone);
        child.on('close', (code, signal) => {
            groups.delete(child.pid);
            resolveDone({ code, signal, stdout, stderr });
        });
    });
    const stop = async () => {
        if (!groups.has(child.pid)) return done;
        killGroup(child.pid, stopSignal);
        const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5_000);
        try {
            return await done;
        } finally {
            clearTimeout(timer);
        }
    };
    return { child, done, stop, output: () => ({ stdout, stderr }) };
}

/** Runs `tunewise ARGS…` to the end; fails with its standard error when it exits non-zero. */
export async function tunewise(args, options) {
    const result = await startTunewise(args, options).done;
    if (result.code !== 0) {
        throw new Error(`tunewise ${args.join(' ')} exited with ${result.code ?? result.signal}:\n${result.stderr}`);
    }
    return result.stdout;
}

/** The trials of a study as the CLI exports them (`tunewise trials --format json`): the truth the page is checked against. */
export async function trialsOf(storage, study) {
    return JSON.parse(await tunewise(['trials', '--storage', storage, '--study', study, '--format', 'json'])).trials;
}

// The fixture's studies. `quad`: one objective, a float `x`, an int `y`, a categorical `kind`,
// the threshold pruner (some trials pruned) and one failed trial (number 7). `pareto front` (a
// name with a space, so links must percent-encode it): two objectives.
export const QUAD = 'quad';
export const PARETO = 'pareto front';
export const QUAD_TRIALS = 80;
export const PARETO_TRIALS = 20;

function quadToml(script) {
    return `[study]
name = "${QUAD}"
seed = 7

[sampler]
kind = "random"

[pruner]
kind = "threshold"
upper = 0.9

[budget]
trials = 1000

[command]
args = ["sh", ${JSON.stringify(script)}]

[params.x]
type = "float"
low = 0.0
high = 1.0

[params.y]
type = "int"
low = 1
high = 5

[params.kind]
type = "categorical"
choices = ["alpha", "beta", "gamma"]
`;
}

function paretoToml(script) {
    return `[study]
name = "${PARETO}"
directions = ["minimize", "minimize"]
seed = 3

[sampler]
kind = "random"

[budget]
trials = 1000

[command]
args = ["sh", ${JSON.stringify(script)}]

[params.a]
type = "float"
low = 0.0
high = 1.0

[params.b]
type = "float"
low = 0.0
high = 1.0
`;
}

/** A fresh temporary directory, removed when the process exits. */
export function tempDir() {
    const dir = mkdtempSync(join(tmpdir(), 'tunewise-browser-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
}

/**
 * Makes the fixture: a SQLite file holding `quad` (QUAD_TRIALS trials) and `pareto front`
 * (PARETO_TRIALS), run by the real binary. `quadTrials` makes a smaller `quad` (the live test
 * adds to it). Returns the storage URL and the directory (the study files are there, to run more).
 */
export async function makeFixture({ quadTrials = QUAD_TRIALS, paretoTrials = PARETO_TRIALS } = {}) {
    const dir = tempDir();
    const storage = `sqlite://${join(dir, 'fixture.db')}`;
    const quad = join(dir, 'quad.toml');
    writeFileSync(quad, quadToml(join(HERE, 'fixture', 'quad.sh')));
    await tunewise(['run', '--config', quad, '--storage', storage, '--trials', String(quadTrials), '--progress', 'none']);
    if (paretoTrials > 0) {
        const pareto = join(dir, 'pareto.toml');
        writeFileSync(pareto, paretoToml(join(HERE, 'fixture', 'pareto.sh')));
        await tunewise(['run', '--config', pareto, '--storage', storage, '--trials', String(paretoTrials), '--progress', 'none']);
    }
    return { dir, storage, quadConfig: quad };
}

/**
 * Starts `tunewise dashboard --storage STORAGE --port 0 [ARGS…]` and waits (20 s at most) for its
 * ready line. Returns `{ url, line, stop }`; `url` is the base URL it printed (ends with `/`).
 */
export async function startDashboard(storage, args = []) {
    const proc = startTunewise(['dashboard', '--storage', storage, '--port', '0', ...args]);
    let timer;
    const ready = new Promise((resolveReady, rejectReady) => {
        let buffer = '';
        proc.child.stdout.on('data', (d) => {
            buffer += d;
            const line = buffer.split('\n').find((l) => /http:\/\/\S+\//.test(l));
            if (line) resolveReady(line);
        });
        proc.done.then((r) =>
            rejectReady(new Error(`tunewise dashboard exited (${r.code ?? r.signal}) before its ready line:\n${r.stdout}${r.stderr}`)),
        );
        timer = setTimeout(() => {
            const { stdout, stderr } = proc.output();
            rejectReady(new Error(`tunewise dashboard printed no ready line in 20 s:\n${stdout}${stderr}`));
        }, 20_000);
    });
    try {
        const line = await ready;
        return { url: line.match(/http:\/\/\S+\//)[0], line: line.trim(), stop: proc.stop, done: proc.done };
    } catch (e) {
        await proc.stop();
        throw e;
    } finally {
        clearTimeout(timer);
    }
}

/**
 * A test file's environment, filled in by a `before` hook: the fixture (`fixture`), a dashboard
 * on it (`dashboard`, started with ARGS) and the browser (`browser`), then whatever SETUP(env)
 * adds; an `after` hook closes the browser and stops the dashboard and every process SETUP
 * registered with `env.stopLater(stop)`, whatever the tests did.
 */
export function useDashboard({ args = [], fixture = {}, setup } = {}) {
    const stops = [];
    const env = { stopLater: (stop) => stops.push(stop) };
    before(async () => {
        const browser = launchBrowser().then((b) => (env.browser = b));
        try {
            env.fixture = await makeFixture(fixture);
            env.dashboard = await startDashboard(env.fixture.storage, args);
        } finally {
            await browser;
        }
        if (setup) await setup(env);
    });
    after(async () => {
        await env.browser?.close();
        await env.dashboard?.stop();
        for (const stop of stops) await stop();
    });
    return env;
}

/** The URL of a study's page under the dashboard's base URL (the name percent-encoded). */
export function studyUrl(dashboard, study) {
    return new URL(`study/${encodeURIComponent(study)}`, dashboard.url).href;
}

/** Headless Chromium (Debian's; playwright downloads no browser). */
export async function launchBrowser() {
    if (!existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} does not exist: run scripts/browser_setup.sh (it installs Debian's chromium)`);
    }
    return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

/**
 * Opens URL in a new page of BROWSER. Every console error and page error is kept in `errors`;
 * `allowError(regex)` lets through the ones a test provokes on purpose (e.g. the 400 of a bad
 * filter, which Chromium logs as "Failed to load resource"), and `assertNoErrors()` fails on the
 * rest. The page's requests are kept in `requests` (URLs).
 */
export async function openPage(browser, url, { waitReady = true } = {}) {
    const page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const errors = [];
    const allowed = [];
    const requests = [];
    page.on('console', (msg) => {
        if (msg.type() === 'error') {
            const where = msg.location()?.url;
            errors.push(`console error: ${msg.text()}${where ? ` (${where})` : ''}`);
        }
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.stack || e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    const response = await page.goto(url);
    if (!response || !response.ok()) {
        throw new Error(`GET ${url} answered ${response ? response.status() : 'nothing'}`);
    }
    if (waitReady) await waitReadyPage(page);
    return {
        page,
        errors,
        requests,
        allowError: (re) => allowed.push(re),
        assertNoErrors: () => {
            const left = errors.filter((e) => !allowed.some((re) => re.test(e)));
            if (left.length) throw new Error(`the page logged errors:\n${left.join('\n')}`);
        },
    };
}

/** Waits for `document.body.dataset.ready === "true"`. */
export async function waitReadyPage(page) {
    await page.waitForFunction(() => document.body && document.body.dataset.ready === 'true', null, { timeout: WAIT_MS });
}

/** The `data-number`s of the trial table's rows, in order. */
export async function rowNumbers(page) {
    return page.$$eval('table#trials tbody tr[data-number]', (rows) => rows.map((r) => Number(r.dataset.number)));
}

/** `#trial-total`'s "M of N trials" as `{ matched, total }` (null when it does not read so). */
export async function trialTotal(page) {
    const text = await page.textContent('#trial-total');
    const m = /(\d+)\s+of\s+(\d+)\s+trials?/.exec(text || '');
    return m ? { matched: Number(m[1]), total: Number(m[2]), text } : { text };
}

/**
 * Waits until FN (run in node against the page, returning a truthy value when satisfied) holds,
 * polling every 50 ms for WAIT_MS at most; fails with DESCRIBE()'s account of what was found.
 */
export async function eventually(fn, describe) {
    const deadline = Date.now() + WAIT_MS;
    let last;
    for (;;) {
        try {
            last = await fn();
            if (last) return last;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) {
            const found = describe ? await describe().catch((e) => `(could not describe: ${e.message})`) : String(last);
            const error = last instanceof Error ? ` (last error: ${last.message})` : '';
            throw new Error(`condition not met within ${WAIT_MS} ms; found: ${found}${error}`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}

// What counts as a drawn mark in tunewise-plot's SVG: points (circles or crosses), lines (paths
// outside the legend), heat-map cells, bars, parallel-coordinate lines.
export const MARKS = 'g.points > *, g.cells > rect, g.bars > rect, g.lines > path, svg > path';

/** Parses CSV (RFC 4180: quoted fields, doubled quotes, CRLF or LF) into rows of strings. */
export function parseCsv(text) {
    const rows = [];
    let row = [];
    let field = '';
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quoted) {
            if (c === '"' && text[i + 1] === '"') {
                field += '"';
                i++;
            } else if (c === '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c === '"') {
            quoted = true;
        } else if (c === ',') {
            row.push(field);
            field = '';
        } else if (c === '\n' || c === '\r') {
            if (c === '\r' && text[i + 1] === '\n') i++;
            row.push(field);
            rows.push(row);
            row = [];
            field = '';
        } else {
            field += c;
        }
    }
    if (field !== '' || row.length) {
        row.push(field);
        rows.push(row);
    }
    return rows;
}
