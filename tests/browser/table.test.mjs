// The trial table of the one-objective study: sorting, filtering (good and bad filters), the
// state select, paging and the CSV link, each checked against the trials the CLI exports.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QUAD, QUAD_TRIALS, eventually, openPage, parseCsv, rowNumbers, studyUrl, trialTotal, trialsOf, useDashboard } from './harness.mjs';

let truth; // number → trial, as `tunewise trials --format json` gives it
const env = useDashboard({
    setup: async ({ fixture }) => {
        truth = new Map((await trialsOf(fixture.storage, QUAD)).map((t) => [t.number, t]));
        assert.equal(truth.size, QUAD_TRIALS);
    },
});

const valueOf = (n) => truth.get(n)?.values?.[0] ?? null;
const numbersWhere = (keep) => [...truth.values()].filter(keep).map((t) => t.number).sort((a, b) => a - b);
const sorted = (numbers) => [...numbers].sort((a, b) => a - b);
/** The study's page, once its table shows rows and `#trial-total`. */
async function open() {
    const opened = await openPage(env.browser, studyUrl(env.dashboard, QUAD));
    await eventually(
        async () => (await rowNumbers(opened.page)).length > 0 && (await trialTotal(opened.page)).total === QUAD_TRIALS,
        async () => `rows ${JSON.stringify(await rowNumbers(opened.page))}, #trial-total ${JSON.stringify((await trialTotal(opened.page)).text)}`,
    );
    return opened;
}

/** Applies FILTER (typed, then Enter) and waits until `#trial-total` reads "EXPECTED of N trials". */
async function applyFilter(page, filter, expected) {
    await page.fill('#filter', filter);
    await page.press('#filter', 'Enter');
    if (expected !== undefined) {
        await eventually(
            async () => {
                const t = await trialTotal(page);
                return t.matched === expected && t.total === QUAD_TRIALS;
            },
            async () => `#trial-total ${JSON.stringify((await trialTotal(page)).text)}, expected "${expected} of ${QUAD_TRIALS} trials"`,
        );
    }
}

/** Waits until the table's rows are exactly EXPECTED (a set, or a list in order). */
async function waitRows(page, expected, { ordered = false } = {}) {
    const want = ordered ? expected : sorted(expected);
    return eventually(
        async () => {
            const rows = await rowNumbers(page);
            const got = ordered ? rows : sorted(rows);
            return JSON.stringify(got) === JSON.stringify(want) && rows;
        },
        async () => `rows ${JSON.stringify(await rowNumbers(page))}, expected ${ordered ? '' : 'the set '}${JSON.stringify(want)}`,
    );
}

/** The CSV behind `a#csv`, fetched by the page as a click would: `{ header, rows }`. */
async function csvOf(page) {
    const { status, type, text } = await page.evaluate(async () => {
        const response = await fetch(document.querySelector('a#csv').href);
        return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
    });
    assert.equal(status, 200, `the CSV link answered ${status}: ${text.slice(0, 200)}`);
    assert.match(type || '', /text\/csv/, 'the CSV content type');
    const [header, ...rows] = parseCsv(text).filter((r) => r.length > 1 || r[0] !== '');
    assert.ok(header.includes('number'), `the CSV has no "number" column: ${header}`);
    return { header, rows, numbers: rows.map((r) => Number(r[header.indexOf('number')])) };
}

/** Waits until the CSV behind `a#csv` holds trials (numbers, in order) for which OK holds. */
async function waitCsv(page, ok, expected) {
    let last;
    await eventually(
        async () => {
            last = (await csvOf(page)).numbers;
            return ok(last);
        },
        async () => `the CSV link's trials ${JSON.stringify(last)}; expected ${expected}`,
    );
}

test('clicking the value column sorts by value, then the other way', async () => {
    const { page, assertNoErrors } = await open();
    const complete = numbersWhere((t) => t.state === 'complete');
    const min = Math.min(...complete.map(valueOf));
    const max = Math.max(...complete.map(valueOf));
    // The rows' values in order, without the trials that have none (where those go is the page's choice).
    const valuesShown = async () => (await rowNumbers(page)).map(valueOf).filter((v) => v !== null);
    const isSorted = (vs, dir) => vs.length > 1 && vs.every((v, i) => i === 0 || (dir === 'asc' ? vs[i - 1] <= v : vs[i - 1] >= v));
    const describe = async () => `values in row order: ${JSON.stringify(await valuesShown())}`;

    await page.click('table#trials thead th[data-sort="value"]');
    const first = await eventually(async () => {
        const vs = await valuesShown();
        if (isSorted(vs, 'asc') && vs[0] === min) return 'asc';
        if (isSorted(vs, 'desc') && vs[0] === max) return 'desc';
        return null;
    }, describe);
    const second = first === 'asc' ? 'desc' : 'asc';
    await page.click('table#trials thead th[data-sort="value"]');
    await eventually(async () => {
        const vs = await valuesShown();
        return isSorted(vs, second) && vs[0] === (second === 'asc' ? min : max);
    }, describe);
    // The CSV link follows the sort: every trial, the complete ones in the same order.
    await waitCsv(page, (numbers) => {
        const values = numbers.map(valueOf).filter((v) => v !== null);
        return JSON.stringify(sorted(numbers)) === JSON.stringify(numbersWhere(() => true)) && isSorted(values, second);
    }, `every trial, sorted ${second} by value`);
    assertNoErrors();
    await page.close();
});

test('clicking a parameter column (x) sorts by that parameter', async () => {
    const { page, assertNoErrors } = await open();
    const xs = async () => (await rowNumbers(page)).map((n) => truth.get(n).params.x);
    const isSorted = (vs, dir) => vs.length > 1 && vs.every((v, i) => i === 0 || (dir === 'asc' ? vs[i - 1] <= v : vs[i - 1] >= v));
    await page.click('table#trials thead th[data-sort="x"]');
    const first = await eventually(
        async () => {
            const vs = await xs();
            return isSorted(vs, 'asc') ? 'asc' : isSorted(vs, 'desc') ? 'desc' : null;
        },
        async () => `x in row order: ${JSON.stringify(await xs())}`,
    );
    await page.click('table#trials thead th[data-sort="x"]');
    await eventually(
        async () => isSorted(await xs(), first === 'asc' ? 'desc' : 'asc'),
        async () => `x in row order after the second click: ${JSON.stringify(await xs())}`,
    );
    assertNoErrors();
    await page.close();
});

test('the filter x > 0.5 leaves the matching rows, updates #trial-total, and the CSV link follows it', async () => {
    const { page, assertNoErrors } = await open();
    const pageSize = (await rowNumbers(page)).length;
    const expected = numbersWhere((t) => t.params.x > 0.5);
    assert.ok(expected.length > 0 && expected.length < QUAD_TRIALS, 'the fixture has trials on both sides of x = 0.5');
    await applyFilter(page, 'x > 0.5', expected.length);
    await eventually(
        async () => {
            const rows = await rowNumbers(page);
            return rows.length === Math.min(expected.length, pageSize) && rows.every((n) => expected.includes(n));
        },
        async () => `rows ${JSON.stringify(await rowNumbers(page))}; trials with x > 0.5: ${JSON.stringify(expected)}`,
    );
    await waitCsv(page, (numbers) => JSON.stringify(sorted(numbers)) === JSON.stringify(expected), `the trials with x > 0.5: ${expected}`);
    assertNoErrors();
    await page.close();
});

test('a filter on a categorical and an int (kind = beta and y >= 3)', async () => {
    const { page, assertNoErrors } = await open();
    const expected = numbersWhere((t) => t.params.kind === 'beta' && t.params.y >= 3);
    assert.ok(expected.length > 0, 'the fixture has such trials');
    await applyFilter(page, 'kind = beta and y >= 3', expected.length);
    await waitRows(page, expected);
    await waitCsv(page, (numbers) => JSON.stringify(sorted(numbers)) === JSON.stringify(expected), `the trials ${expected}`);
    assertNoErrors();
    await page.close();
});

test('a filter is applied when typing stops, without Enter', async () => {
    const { page, assertNoErrors } = await open();
    const expected = numbersWhere((t) => t.params.y === 1);
    await page.locator('#filter').pressSequentially('y = 1');
    await eventually(
        async () => (await trialTotal(page)).matched === expected.length,
        async () => `#trial-total ${JSON.stringify((await trialTotal(page)).text)}; expected "${expected.length} of ${QUAD_TRIALS} trials"`,
    );
    await waitRows(page, expected);
    assertNoErrors();
    await page.close();
});

test('a bad filter shows #filter-error and keeps the table', async () => {
    const { page, allowError, assertNoErrors } = await open();
    // The server answers a bad filter with 400, which Chromium logs as a failed resource.
    allowError(/status of 400/);
    const rows = await rowNumbers(page);
    const total = (await trialTotal(page)).text;
    assert.equal((await page.textContent('#filter-error')).trim(), '', '#filter-error is empty at first');
    for (const bad of ['x >', 'nosuch > 1', 'x > abc']) {
        await page.fill('#filter', bad);
        await page.press('#filter', 'Enter');
        await eventually(
            async () => (await page.textContent('#filter-error')).trim() !== '',
            async () => `#filter-error is ${JSON.stringify(await page.textContent('#filter-error'))} after the filter ${JSON.stringify(bad)}`,
        );
        assert.deepEqual(await rowNumbers(page), rows, `the rows after the bad filter ${JSON.stringify(bad)}`);
        assert.equal((await trialTotal(page)).text, total, `#trial-total after the bad filter ${JSON.stringify(bad)}`);
    }
    await applyFilter(page, '', QUAD_TRIALS);
    await eventually(
        async () => (await page.textContent('#filter-error')).trim() === '',
        async () => `#filter-error still reads ${JSON.stringify(await page.textContent('#filter-error'))} once the filter is cleared`,
    );
    assertNoErrors();
    await page.close();
});

test('the state select shows the trials in that state', async () => {
    const { page, assertNoErrors } = await open();
    for (const state of ['pruned', 'failed', 'complete']) {
        const expected = numbersWhere((t) => t.state === state);
        assert.ok(expected.length > 0, `the fixture has ${state} trials`);
        await page.selectOption('select#state', state);
        await eventually(
            async () => (await trialTotal(page)).matched === expected.length,
            async () => `#trial-total ${JSON.stringify((await trialTotal(page)).text)} for state ${state}; expected ${expected.length} of ${QUAD_TRIALS}`,
        );
        if (expected.length <= 20) await waitRows(page, expected);
    }
    await page.selectOption('select#state', 'all');
    await eventually(async () => (await trialTotal(page)).matched === QUAD_TRIALS);
    assertNoErrors();
    await page.close();
});

test('paging: next shows the other trials, prev the first page again', async () => {
    const { page, assertNoErrors } = await open();
    const first = await rowNumbers(page);
    assert.ok(first.length > 0 && first.length < QUAD_TRIALS, `the first page shows ${first.length} of ${QUAD_TRIALS} trials`);
    await page.click('button#next');
    const second = await eventually(
        async () => {
            const rows = await rowNumbers(page);
            return rows.length > 0 && rows.every((n) => !first.includes(n)) && rows;
        },
        async () => `rows after next: ${JSON.stringify(await rowNumbers(page))}; first page: ${JSON.stringify(first)}`,
    );
    if (first.length + second.length === QUAD_TRIALS) {
        assert.deepEqual(sorted([...first, ...second]), numbersWhere(() => true), 'the two pages hold every trial');
    }
    await page.click('button#prev');
    await waitRows(page, first, { ordered: true });
    assertNoErrors();
    await page.close();
});
