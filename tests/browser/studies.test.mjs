// The studies page: it loads, lists both studies with their trial counts (and the best value of
// the one-objective study), and a study's link leads to its page.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PARETO, PARETO_TRIALS, QUAD, QUAD_TRIALS, openPage, trialsOf, useDashboard, waitReadyPage } from './harness.mjs';

const env = useDashboard();

/** The texts of the cells of the row of STUDY in `table#studies`. */
async function cellsOf(page, study) {
    const row = page.locator(`table#studies tbody tr[data-study=${JSON.stringify(study)}]`);
    assert.equal(await row.count(), 1, `table#studies has no single row tr[data-study=${JSON.stringify(study)}]`);
    return row.locator('td').allTextContents();
}

test('the studies page lists both studies with their trial counts and the best value', async () => {
    const { page, assertNoErrors } = await openPage(env.browser, env.dashboard.url);
    assert.equal(await page.getAttribute('body', 'data-page'), 'studies');

    const listed = await page.$$eval('table#studies tbody tr[data-study]', (rows) => rows.map((r) => r.dataset.study));
    assert.deepEqual([...listed].sort(), [PARETO, QUAD].sort(), 'the studies listed');

    const quad = (await cellsOf(page, QUAD)).map((t) => t.trim());
    assert.ok(quad.includes(String(QUAD_TRIALS)), `no cell of ${QUAD}'s row reads ${QUAD_TRIALS}: ${JSON.stringify(quad)}`);
    const best = Math.min(...(await trialsOf(env.fixture.storage, QUAD)).filter((t) => t.state === 'complete').map((t) => t.values[0]));
    const shown = quad.filter((t) => t !== '').map(Number).filter(Number.isFinite);
    assert.ok(
        shown.some((v) => Math.abs(v - best) <= 5e-3 * Math.abs(best)),
        `no cell of ${QUAD}'s row shows the best value ${best}: ${JSON.stringify(quad)}`,
    );

    const pareto = (await cellsOf(page, PARETO)).map((t) => t.trim());
    assert.ok(pareto.includes(String(PARETO_TRIALS)), `no cell of ${PARETO}'s row reads ${PARETO_TRIALS}: ${JSON.stringify(pareto)}`);
    assertNoErrors();
    await page.close();
});

test("a study's link leads to its page (a name with a space, percent-encoded)", async () => {
    const { page, assertNoErrors } = await openPage(env.browser, env.dashboard.url);
    const link = page.locator(`table#studies tbody tr[data-study=${JSON.stringify(PARETO)}] a`).first();
    const href = await link.getAttribute('href');
    assert.ok(href && !/^(\/|[a-z]+:)/i.test(href), `the link is not relative: ${href}`);
    await link.click();
    await page.waitForURL((u) => decodeURIComponent(u.pathname).endsWith(`/study/${PARETO}`));
    await waitReadyPage(page);
    assert.equal(await page.getAttribute('body', 'data-page'), 'study');
    assert.equal((await page.textContent('#trial-count')).trim(), String(PARETO_TRIALS));
    assertNoErrors();
    await page.close();
});
