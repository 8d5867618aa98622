// A study's page: it gets ready, shows the trial count and the best value, and every plot it
// shows is an inline SVG with drawn marks (the history's points and best-so-far line; the Pareto
// plot of the two-objective study).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MARKS, PARETO, PARETO_TRIALS, QUAD, QUAD_TRIALS, eventually, openPage, studyUrl, trialsOf, useDashboard } from './harness.mjs';

const env = useDashboard();

/** Waits for every `section#plots figure[data-kind]` to hold an SVG with drawn marks; returns `{ kind: marks }`. */
async function drawnFigures(page) {
    const kinds = await page.$$eval('section#plots figure[data-kind]', (figures) => figures.map((f) => f.dataset.kind));
    assert.ok(kinds.length > 0, 'section#plots holds no figure[data-kind]');
    const marks = {};
    for (const kind of kinds) {
        const figure = page.locator(`section#plots figure[data-kind="${kind}"]`).first();
        marks[kind] = await eventually(
            () => figure.locator(`svg :is(${MARKS})`).count(),
            async () => `figure[data-kind="${kind}"] holds: ${(await figure.innerHTML()).slice(0, 300)}`,
        );
    }
    return marks;
}

test('the one-objective study: ready, trial count, best value, every plot drawn', async () => {
    const { page, assertNoErrors } = await openPage(env.browser, studyUrl(env.dashboard, QUAD));
    assert.equal(await page.getAttribute('body', 'data-page'), 'study');
    assert.equal((await page.textContent('#trial-count')).trim(), String(QUAD_TRIALS));

    const best = Math.min(...(await trialsOf(env.fixture.storage, QUAD)).filter((t) => t.state === 'complete').map((t) => t.values[0]));
    const bestText = await page.textContent('#best-value');
    const numbers = (bestText.match(/-?\d+(\.\d+)?(e-?\d+)?/gi) || []).map(Number);
    assert.ok(
        numbers.some((v) => Math.abs(v - best) <= 5e-3 * Math.abs(best)),
        `#best-value does not show the best value ${best}: ${JSON.stringify(bestText)}`,
    );

    const marks = await drawnFigures(page);
    assert.ok('history' in marks, `no history figure; figures: ${Object.keys(marks)}`);
    const history = page.locator('section#plots figure[data-kind="history"] svg').first();
    assert.ok((await history.locator('g.points > *').count()) > 0, 'the history plot has no points');
    assert.ok((await history.locator(':scope > path').count()) > 0, 'the history plot has no best-so-far line');
    assertNoErrors();
    await page.close();
});

test('the two-objective study: its Pareto plot is drawn', async () => {
    const { page, assertNoErrors } = await openPage(env.browser, studyUrl(env.dashboard, PARETO));
    assert.equal((await page.textContent('#trial-count')).trim(), String(PARETO_TRIALS));
    const marks = await drawnFigures(page);
    assert.ok('pareto' in marks, `no Pareto figure; figures: ${Object.keys(marks)}`);
    const pareto = page.locator('section#plots figure[data-kind="pareto"] svg').first();
    assert.ok((await pareto.locator('g.points > *').count()) > 0, 'the Pareto plot has no points');
    const keys = await page.$$eval('table#trials thead th[data-sort]', (ths) => ths.map((th) => th.dataset.sort));
    for (const key of ['value0', 'value1', 'a', 'b']) assert.ok(keys.includes(key), `no th[data-sort="${key}"] in ${keys}`);
    assertNoErrors();
    await page.close();
});
